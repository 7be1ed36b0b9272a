"""The MCP endpoint as an OAuth 2.0 protected resource: its identifier, its metadata, its audience rule.

- RFC 8707 (resource indicators): a token is accepted only if it was issued for this resource.
- RFC 9728 (protected resource metadata): the document clients read to find the Authorization
  Server, built from the SDK's public pieces (its model, handler and CORS wrapper, the way its
  `create_protected_resource_routes` does) so that it can also name the DPoP algorithms
  (RFC 9728 section 2: ``dpop_signing_alg_values_supported``, ``dpop_bound_access_tokens_required``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

from mcp.server.auth.handlers.metadata import ProtectedResourceMetadataHandler
from mcp.server.auth.routes import build_resource_metadata_url, cors_middleware
from mcp.shared.auth import ProtectedResourceMetadata
from pydantic import AnyHttpUrl, ConfigDict, TypeAdapter, ValidationError
from starlette.routing import Route

from oscal_mcp_auth.dpop import DPoPPolicy
from oscal_mcp_auth.errors import ConfigurationError
from oscal_mcp_auth.urls import canonical_resource_url, issuer_problem, url_problem

# A path-less URL keeps its spelling (no trailing slash added): RFC 8414 section 3.3 compares
# issuers as exact strings, so the metadata must name the issuer exactly as configured.
_AS_WRITTEN = TypeAdapter(AnyHttpUrl, config=ConfigDict(url_preserve_empty_path=True))


@dataclass(frozen=True)
class ProtectedResource:
    """What a protected MCP endpoint is, and what every request to it needs.

    `url` is the resource identifier clients ask tokens for (RFC 8707), usually the endpoint's
    public URL, e.g. ``https://mcp.example.com/mcp``. With `authorization_servers` set, the
    RFC 9728 metadata document is served and every challenge points to it; without, neither is.
    With `dpop`, requests may (or, if it is required, must) present DPoP-bound tokens (RFC 9449).
    """

    url: str
    authorization_servers: tuple[str, ...] = ()
    required_scopes: tuple[str, ...] = ()
    resource_name: str | None = None
    dpop: DPoPPolicy | None = None

    def __post_init__(self) -> None:
        for name, value in (("url", self.url), *(("authorization_servers", s) for s in self.authorization_servers)):
            try:
                _AS_WRITTEN.validate_python(value)
            except ValidationError:
                raise ConfigurationError(f"ProtectedResource.{name}={value!r} is not an http(s) URL") from None
            problem = url_problem(value) if name == "url" else issuer_problem(value)
            if problem:  # RFC 8707 section 2: no fragment; RFC 8414 section 2: no query or fragment
                raise ConfigurationError(f"ProtectedResource.{name} {problem}")

    @cached_property
    def metadata_url(self) -> str | None:
        """Where the RFC 9728 metadata is served (RFC 9728 section 3.1), or None when it is not."""
        if not self.authorization_servers:
            return None
        return str(build_resource_metadata_url(AnyHttpUrl(self.url)))

    def accepts_resource(self, token_resource: str | None) -> bool:
        """RFC 8707: the token's resource is this one, compared as URLs, a trailing slash aside.

        Parsing both as URLs makes the comparison ignore the case of scheme and host and the
        spelling of a default port; a missing or unparsable resource never matches.
        """
        if not token_resource:
            return False
        if token_resource == self.url:
            return True  # the common case, without parsing
        try:
            theirs = str(AnyHttpUrl(token_resource))
        except ValidationError:
            return False
        return theirs.removesuffix("/") == self._canonical_url

    @cached_property
    def _canonical_url(self) -> str:
        return canonical_resource_url(self.url)


def metadata_routes(resource: ProtectedResource) -> list[Route]:
    """The RFC 9728 metadata route (public, readable cross-origin), or none without an issuer."""
    if resource.metadata_url is None:
        return []
    metadata = ProtectedResourceMetadata(
        resource=_AS_WRITTEN.validate_python(resource.url),
        authorization_servers=[_AS_WRITTEN.validate_python(issuer) for issuer in resource.authorization_servers],
        scopes_supported=list(resource.required_scopes) or None,
        resource_name=resource.resource_name,
        dpop_signing_alg_values_supported=list(resource.dpop.algorithms) if resource.dpop else None,
        dpop_bound_access_tokens_required=resource.dpop.required if resource.dpop else None,
    )
    handler = ProtectedResourceMetadataHandler(metadata)
    return [
        Route(
            urlsplit(resource.metadata_url).path,  # RFC 9728 section 3.1: the well-known path + the resource's
            endpoint=cors_middleware(handler.handle, ["GET", "OPTIONS"]),
            methods=["GET", "OPTIONS"],
        )
    ]
