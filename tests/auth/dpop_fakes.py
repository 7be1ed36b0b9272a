"""In-process stand-ins for the DPoP unit tests of `BearerAuth`: a `BindingVerifier` and an endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field

from mcp.server.auth.provider import AccessToken
from starlette.types import Receive, Scope, Send

from tests.e2e.dpop_client import DPoPKey

RESOURCE = "https://mcp.example.com/mcp"
ISSUER = "https://idp.example.com"
KEY = DPoPKey.generate("ES256")


def access(token: str, scopes: tuple[str, ...] = ("oscal:read",)) -> AccessToken:
    return AccessToken(token=token, client_id=f"client-{token}", scopes=list(scopes), resource=RESOURCE)


@dataclass
class FakeBindingVerifier:
    """In-process `BindingVerifier`: `bound` maps tokens to the thumbprint they are bound to."""

    bound: dict[str, str]
    plain: set[str]
    calls: list[tuple[str, str | None]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    told: list[tuple[str, str, str]] = field(default_factory=list)
    """Every `proof_refused` call in full: (token, reason, detail)."""

    async def verify_token(self, token: str) -> AccessToken | None:
        self.calls.append((token, None))
        return access(token) if token in self.plain else None  # a bound token is no bearer token

    async def verify_bound(self, token: str, jkt: str) -> AccessToken | None:
        self.calls.append((token, jkt))
        if token in self.plain or self.bound.get(token) == jkt:
            return access(token)
        return None

    def proof_refused(self, token: str, reason: str, detail: str) -> None:
        self.refused.append(reason)
        self.told.append((token, reason, detail))


class Endpoint:
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})
