"""A stand-in for the user's browser in the authorization code flow: ``python -m
tests.e2e.headless_login <authorization URL>``.

Examples open the authorization URL with `webbrowser`; tests point ``BROWSER`` at this module. It
follows the Authorization Server's redirects, signs in on oidc-provider's development login page
(any login name and password), consents, and delivers the final redirect (``?code=…&state=…``)
to the client's loopback listener, as a browser would. Silent unless something fails.
"""

from __future__ import annotations

import re
import sys
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

LOGIN = "alice"
_FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')
_PROMPT = re.compile(r'name="prompt" value="([a-z]+)"')
MAX_STEPS = 20


def sign_in(url: str) -> None:
    with httpx.Client(timeout=30) as browser:
        response = browser.get(url)
        for _ in range(MAX_STEPS):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                query = parse_qs(urlsplit(location).query)
                if "code" in query or "error" in query:  # the authorization response: hand it to the client
                    browser.get(location).raise_for_status()
                    return
                response = browser.get(location)
                continue
            response.raise_for_status()
            response = browser.post(
                urljoin(str(response.url), _form_action(response.text)), data=_answer(response.text)
            )
        raise RuntimeError(f"no authorization response after {MAX_STEPS} steps; last page: {response.url}")


def _form_action(page: str) -> str:
    match = _FORM_ACTION.search(page)
    if match is None:
        raise RuntimeError(f"no form on the page: {page[:300]!r}")
    return match.group(1)


def _answer(page: str) -> dict[str, str]:
    match = _PROMPT.search(page)
    prompt = match.group(1) if match else ""
    if prompt == "login":
        return {"prompt": "login", "login": LOGIN, "password": "any"}
    if prompt == "consent":
        return {"prompt": "consent"}
    raise RuntimeError(f"unexpected page (prompt {prompt!r})")


if __name__ == "__main__":
    sign_in(sys.argv[1])
