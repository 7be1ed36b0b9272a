"""URL rules for settings that point at the Authorization Server (no network, no extra needed)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, ValidationError


def is_loopback_host(host: str | None) -> bool:
    """``localhost`` or a loopback address (all of 127.0.0.0/8, every spelling of ``::1``)."""
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_problem(url: str) -> str | None:
    """Why `url` is not one absolute http(s) URL without credentials or fragment; None when it is.

    The message never quotes the URL's credentials. A comma-separated list is refused here rather
    than by the SDK's own ``AnyHttpUrl`` later (which would accept some lists as a strange host).
    """
    parts = urlsplit(url)
    if "@" in parts.netloc:  # checked first: the message must not echo a password
        return "must not carry credentials (user:password@); configure them separately"
    if "," in url or any(c.isspace() for c in url):
        return "is not one URL; give exactly one absolute http:// or https:// URL (no commas or spaces)"
    if "#" in url:  # RFC 8707 section 2 (a resource indicator), RFC 8414 section 2: even an empty one
        return "has a fragment (#); give the URL without one"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "is not a valid URL; use an absolute http:// or https:// URL"
    try:
        AnyHttpUrl(url)
        _ = parts.port  # a port that is not a number raises here
    except (ValidationError, ValueError):
        return "is not a valid URL; use an absolute http:// or https:// URL with a valid host and port"
    return None


def issuer_problem(url: str) -> str | None:
    """Why `url` cannot be an issuer identifier: `url_problem`, or a query (RFC 8414 section 2:
    "a URL that uses the https scheme and has no query or fragment components")."""
    problem = url_problem(url)
    if problem is None and "?" in url:
        return "has a query (?); an issuer identifier has none (RFC 8414 section 2)"
    return problem


def canonical_resource_url(url: str) -> str:
    """One spelling of a resource URL (RFC 8707): as `AnyHttpUrl` parses it (scheme and host lower
    case, default port dropped), a trailing slash aside; `url` itself when it does not parse."""
    try:
        return str(AnyHttpUrl(url)).removesuffix("/")
    except ValidationError:
        return url


def insecure_http_problem(url: str, *, allowed: bool) -> str | None:
    """Plain http to a host that is not loopback is refused unless `allowed` (RFC 8414 section 2
    and RFC 7662 section 4 ask for TLS): a network attacker on that path could inject signing
    keys or introspection answers and read client secrets."""
    parts = urlsplit(url)
    if parts.scheme != "http" or allowed or is_loopback_host(parts.hostname):
        return None
    return "is plain http to a host that is not loopback"
