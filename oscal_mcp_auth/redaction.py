"""Credentials in query strings and URLs: found by one parser, refused or hidden everywhere.

`query_parameters` is the one reading of ``name=value`` parameters in a text: a request's query
string (`carries_access_token`, which `asgi.read_authorization` refuses), an access-log line
(`hide_credentials`, which the server's log filter applies) or a URL-shaped setting quoted in a
start-up error. Every spelling the refusal recognises is therefore hidden in the log too:

- separators ``?``, ``&`` and ``;``, raw or percent-encoded (uvicorn's access log quotes the
  path, so ``/mcp;access_token=x`` is logged as ``/mcp%3Baccess_token%3Dx``);
- names percent-decoded (and ``+`` as a space, as query strings are) until they no longer
  change, so ``access_t%6Fken`` and ``access_t%256Fken`` are both ``access_token``;
- a name without ``=`` (``?access_token``), as Starlette's ``QueryParams`` reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote_plus

ACCESS_TOKEN = "access_token"  # noqa: S105 - a parameter name (RFC 6750 section 2.3)
HIDDEN = "[redacted]"
CREDENTIALS_HIDDEN = "[credentials hidden]@"

_SEPARATOR = r"(?:[?&;]|%3[BbFf]|%26)"
_EQUALS = r"(?:=|%3[Dd])"
_END = r"\s\"'<>"  # a value ends at white space or a quote (a log line's delimiters)
_PARAMETER = re.compile(
    rf"{_SEPARATOR}(?P<name>(?:(?!{_SEPARATOR}|{_EQUALS})[^{_END}])*)"
    rf"(?:{_EQUALS}(?P<value>(?:(?!{_SEPARATOR})[^{_END}])*))?"
)
# A parameter name that says it carries a credential: access_token, client_secret, password, api_key...
_CREDENTIAL_NAME = re.compile(r"(?i)token|secret|pass|pwd|key|auth|credential|signature")
# user:password@ after a slash: in a URL, also one a path normalisation shortened to "https:/u:p@host"
_USERINFO = re.compile(r"(?<=/)[^/@\s'\"]+@")
_MAX_DECODINGS = 4


@dataclass(frozen=True)
class Parameter:
    """One ``name=value`` of a text: its decoded name, and where its value sits (an empty span
    right after the name when there is no ``=``)."""

    name: str
    value_start: int
    value_end: int


def query_parameters(text: str) -> Iterator[Parameter]:
    """Every parameter of `text` that follows a separator (see the module's description)."""
    for match in _PARAMETER.finditer(text):
        if match.group("value") is None:
            yield Parameter(decoded_name(match.group("name")), match.end(), match.end())
        else:
            yield Parameter(decoded_name(match.group("name")), match.start("value"), match.end("value"))


def decoded_name(name: str) -> str:
    for _ in range(_MAX_DECODINGS):
        decoded = unquote_plus(name, errors="replace")
        if decoded == name:
            break
        name = decoded
    return name


def carries_access_token(query_string: str) -> bool:
    """Whether a request's query string (without its ``?``) has an ``access_token`` parameter in
    any spelling this module recognises."""
    return any(parameter.name == ACCESS_TOKEN for parameter in query_parameters("?" + query_string))


def hide_credentials(text: str, *, userinfo: str = CREDENTIALS_HIDDEN, value: str = HIDDEN) -> str:
    """`text` with the values of credential-named parameters replaced by `value` (``[redacted]``)
    and the ``user:password@`` of any URL by `userinfo` (``[credentials hidden]@``)."""
    if "@" in text:
        text = _USERINFO.sub(lambda _: userinfo, text)
    if "=" not in text and "%3d" not in text.lower():  # no value to hide: the common log line
        return text
    pieces: list[str] = []
    position = 0
    for parameter in query_parameters(text):
        if _CREDENTIAL_NAME.search(parameter.name) and parameter.value_end > parameter.value_start:
            pieces += [text[position : parameter.value_start], value]
            position = parameter.value_end
    return "".join(pieces) + text[position:] if pieces else text
