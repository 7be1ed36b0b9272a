"""Authorization Server metadata: RFC 8414, then OpenID Connect Discovery 1.0.

For an issuer ``https://as.example.com/tenant`` the candidates are, in order:

1. ``https://as.example.com/.well-known/oauth-authorization-server/tenant`` (RFC 8414 section 3.1)
2. ``https://as.example.com/tenant/.well-known/openid-configuration`` (OIDC Discovery section 4)
3. ``https://as.example.com/.well-known/openid-configuration/tenant`` (RFC 8414 section 5 compat)

The document's ``issuer`` must equal the configured issuer exactly (RFC 8414 section 3.3), or the
document is refused: that check is what stops a mix-up between two Authorization Servers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from oscal_mcp_auth.http import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_SECONDS, FetchError, request_json


def metadata_urls(issuer: str) -> list[str]:
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    return [
        f"{origin}/.well-known/oauth-authorization-server{path}",
        f"{origin}{path}/.well-known/openid-configuration",
        f"{origin}/.well-known/openid-configuration{path}",
    ]


async def fetch_metadata(
    client: httpx.AsyncClient,
    issuer: str,
    *,
    max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    total_timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """The first metadata document found for `issuer`; raises `FetchError` when none is usable."""
    problems: list[str] = []
    for url in dict.fromkeys(metadata_urls(issuer)):
        try:
            response = await request_json(client, "GET", url, max_bytes=max_bytes, total_timeout=total_timeout)
        except FetchError as exc:
            if exc.reason in ("timeout", "unreachable"):
                raise
            problems.append(f"{url}: {exc.reason}")
            continue
        if response.status_code != 200 or not isinstance(response.body, dict):
            problems.append(f"{url}: HTTP {response.status_code}")
            continue
        found = response.body.get("issuer")
        if found != issuer:
            raise FetchError(
                "issuer_mismatch", f"{url} names issuer {found!r}, not the configured {issuer!r} (RFC 8414 3.3)"
            )
        return response.body
    raise FetchError("no_metadata", "no authorization server metadata found: " + "; ".join(problems))
