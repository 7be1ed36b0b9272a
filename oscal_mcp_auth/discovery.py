"""Authorization Server metadata: RFC 8414, then OpenID Connect Discovery 1.0.

For an issuer ``https://as.example.com/tenant`` the candidates are, in order:

1. ``https://as.example.com/.well-known/oauth-authorization-server/tenant`` (RFC 8414 section 3.1)
2. ``https://as.example.com/tenant/.well-known/openid-configuration`` (OIDC Discovery section 4)
3. ``https://as.example.com/.well-known/openid-configuration/tenant`` (RFC 8414 section 5 compat)

The document's ``issuer`` must equal the configured issuer exactly (RFC 8414 section 3.3), or the
document is refused: that check is what stops a mix-up between two Authorization Servers.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import httpx

from oscal_mcp_auth.cache import SingleFlight
from oscal_mcp_auth.http import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_SECONDS, FetchError, request_json
from oscal_mcp_auth.logsafe import shown
from oscal_mcp_auth.telemetry.relay import current_telemetry
from oscal_mcp_auth.urls import insecure_http_problem, url_problem

logger = logging.getLogger("oscal_mcp_auth")


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
                "issuer_mismatch", f"{url} names issuer {shown(found)}, not the configured {issuer!r} (RFC 8414 3.3)"
            )
        return response.body
    raise FetchError("no_metadata", "no authorization server metadata found: " + "; ".join(problems))


class EndpointResolver:
    """One Authorization Server endpoint (``jwks_uri``, ``introspection_endpoint``...): the
    configured URL, or else the one named by the issuer's metadata.

    Discovery is lazy, so start-up does not need the Authorization Server; concurrent first
    requests share one fetch; a failed fetch fails those requests and is retried by the next; a
    found endpoint is kept for the life of the process. A discovered plain-http endpoint on a
    host that is not loopback is refused (``insecure_endpoint``) unless insecure http is allowed.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        issuer: str | None,
        metadata_field: str,
        *,
        configured: str | None = None,
        allow_insecure_http: bool = False,
        max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        total_timeout: float = DEFAULT_TIMEOUT_SECONDS,
        hint: str = "",
        label: str | None = None,
    ) -> None:
        self._client = client
        self._issuer = issuer
        self._field = metadata_field
        self._endpoint = configured
        self._allow_insecure_http = allow_insecure_http
        self._max_bytes = max_bytes
        self._total_timeout = total_timeout
        self._hint = hint
        self._label = label or metadata_field
        self._discovery: SingleFlight[str] = SingleFlight()
        self._telemetry = current_telemetry()

    async def resolve(self) -> str:
        if self._endpoint is not None:
            return self._endpoint
        return await self._discovery.run(self._field, self._discover)

    async def _discover(self) -> str:
        with self._telemetry.fetching("discovery", self._issuer or "") as outcome:
            try:
                return await self._discover_once()
            except FetchError as failed:
                outcome.word = failed.reason
                raise

    async def _discover_once(self) -> str:
        if self._issuer is None:
            raise FetchError("no_endpoint", f"no issuer to discover {self._field} from; {self._hint}")
        metadata = await fetch_metadata(
            self._client, self._issuer, max_bytes=self._max_bytes, total_timeout=self._total_timeout
        )
        endpoint = metadata.get(self._field)
        if not isinstance(endpoint, str) or url_problem(endpoint) is not None:
            problem = f"the metadata of {self._issuer} has no usable {self._field}; {self._hint}"
            raise FetchError(f"no_{self._field}", problem)
        insecure = insecure_http_problem(endpoint, allowed=self._allow_insecure_http)
        if insecure is not None:
            raise FetchError("insecure_endpoint", f"the discovered {self._field} {shown(endpoint)} {insecure}")
        logger.info("%s %s (from the metadata of %s)", self._label, shown(endpoint), self._issuer)
        self._endpoint = endpoint
        return endpoint
