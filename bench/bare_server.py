"""A bare SDK ``MCPServer`` with this server's cheap tools, the baseline of ``bench_overhead.py``.

    python bench/bare_server.py --port N --payloads FILE [--json-response] [--public-key-file PEM --issuer URL]

Same tool names, parameters, sync/async kind and result classes as ``oscal-mcp`` (the pydantic
result classes are imported from ``oscal_mcp.tools``, so the SDK builds the same input and output
schemas and serializes the same shapes), but every result is a constant, built once from the
payloads ``bench_overhead.py`` captured from the real server. ``about`` still reads the caller per
call, as any ``about`` must. With ``--public-key-file`` the SDK's own bearer middleware guards the
endpoint with a hand-written python-jose ``TokenVerifier`` (no cache). Stateless streamable HTTP,
served by uvicorn at log level WARNING, like the real server in the benchmark.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Annotated, Any, TypeVar

import uvicorn
from jose import jwk, jwt
from jose.exceptions import JOSEError
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

from oscal_mcp.tools.about import AboutResult, CallerInfo
from oscal_mcp.tools.components import CapabilityList, ComponentList, DefinitionList, LimitParam, OffsetParam
from oscal_mcp.tools.models import OscalModelList
from oscal_mcp.tools.resources import ResourceList

DefinitionParam = Annotated[str | None, Field(description="Restrict to one component definition.")]
M = TypeVar("M", bound=BaseModel)
TopicParam = Annotated[str | None, Field(description="Only resources on this topic; omit for all.")]


def payload_key(name: str, arguments: dict[str, Any]) -> str:
    """How bench_overhead.py files a captured result: the tool name and its arguments."""
    return f"{name} {json.dumps(arguments, sort_keys=True)}"


class Results:
    """The captured results, validated into their classes once; a missing one is a benchmark bug."""

    def __init__(self, payloads: dict[str, Any]) -> None:
        self._payloads = payloads
        self._built: dict[str, BaseModel] = {}

    def get(self, cls: type[M], name: str, **arguments: Any) -> M:
        key = payload_key(name, {k: v for k, v in arguments.items() if v is not None})
        built = self._built.get(key)
        if not isinstance(built, cls):
            built = self._built[key] = cls.model_validate(self._payloads[key])
        return built


class JoseVerifier:
    """The TokenVerifier anyone would write first: python-jose, one static key, no cache."""

    def __init__(self, public_pem: str, issuer: str, audience: str) -> None:
        self._key = jwk.construct(public_pem, "RS256")
        self._issuer = issuer
        self._audience = audience

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            claims = jwt.decode(token, self._key, algorithms=["RS256"], audience=self._audience, issuer=self._issuer)
        except JOSEError:
            return None
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id", "")),
            scopes=str(claims.get("scope", "")).split(),
            expires_at=claims.get("exp"),
            resource=self._audience,
            subject=claims.get("sub"),
        )


def build(results: Results, verifier: JoseVerifier | None, issuer: str, resource: str) -> MCPServer[Any]:
    auth = None
    if verifier is not None:
        auth = AuthSettings.model_validate(
            {
                "issuer_url": issuer,
                "resource_server_url": resource,
                "required_scopes": ["oscal:read"],
                "validate_token_resource": True,
            }
        )
    server: MCPServer[Any] = MCPServer(name="bare", log_level="WARNING", token_verifier=verifier, auth=auth)

    def about() -> AboutResult:
        token = get_access_token()
        caller = None
        if token is not None:
            caller = CallerInfo(client_id=token.client_id, subject=token.subject, scopes=list(token.scopes))
        return results.get(AboutResult, "about").model_copy(update={"caller": caller})

    def list_oscal_models() -> OscalModelList:
        return results.get(OscalModelList, "list_oscal_models")

    def list_oscal_resources(topic: TopicParam = None) -> ResourceList:
        return results.get(ResourceList, "list_oscal_resources", topic=topic)

    async def list_component_definitions(limit: LimitParam = 50, offset: OffsetParam = 0) -> DefinitionList:
        return results.get(DefinitionList, "list_component_definitions")

    async def list_components(
        definition: DefinitionParam = None, limit: LimitParam = 50, offset: OffsetParam = 0
    ) -> ComponentList:
        return results.get(ComponentList, "list_components")

    async def list_capabilities(
        definition: DefinitionParam = None, limit: LimitParam = 50, offset: OffsetParam = 0
    ) -> CapabilityList:
        return results.get(CapabilityList, "list_capabilities")

    for tool in (
        about,
        list_oscal_models,
        list_oscal_resources,
        list_component_definitions,
        list_components,
        list_capabilities,
    ):
        server.add_tool(tool, name=tool.__name__)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--payloads", type=Path, required=True, help="JSON file written by bench_overhead.py")
    parser.add_argument("--json-response", action="store_true", help="the SDK's json_response=True")
    parser.add_argument("--public-key-file", type=Path, help="RS256 public key (PEM): turns jwt auth on")
    parser.add_argument("--issuer", default="")
    args = parser.parse_args()
    resource = f"http://127.0.0.1:{args.port}/mcp"
    verifier = None
    if args.public_key_file:
        verifier = JoseVerifier(args.public_key_file.read_text(), args.issuer, resource)
    server = build(Results(json.loads(args.payloads.read_text())), verifier, args.issuer, resource)
    app = server.streamable_http_app(
        streamable_http_path="/mcp", stateless_http=True, json_response=args.json_response, host="127.0.0.1"
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None, log_level="warning")


if __name__ == "__main__":
    main()
