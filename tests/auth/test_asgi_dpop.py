"""`BearerAuth` with DPoP (RFC 9449): proofs checked against the public URL, both challenges offered,
``invalid_dpop_proof`` for a bad proof, replays refused, Bearer refused where DPoP is required, and
the metadata naming the algorithms (RFC 9728 section 2)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from mcp.server.auth.provider import AccessToken
from starlette.applications import Starlette

from oscal_mcp_auth import BearerAuth, ConfigurationError, ProtectedResource, protect
from oscal_mcp_auth.cache import SharedStore
from oscal_mcp_auth.dpop import DPoPPolicy
from oscal_mcp_auth.replay import ReplayCache
from tests.auth.dpop_fakes import ISSUER, KEY, RESOURCE, Endpoint, FakeBindingVerifier
from tests.e2e.dpop_client import DPoPKey

pytestmark = pytest.mark.anyio

METADATA_PATH = "/.well-known/oauth-protected-resource/mcp"
OTHER_KEY = DPoPKey.generate("ES256")


@dataclass
class Deployment:
    client: httpx.AsyncClient
    verifier: FakeBindingVerifier
    replay: ReplayCache

    async def dpop(self, token: str = "bound", proof: str | None = None, method: str = "POST") -> httpx.Response:  # noqa: S107
        proof = proof if proof is not None else KEY.proof(method, RESOURCE, access_token=token)
        return await self.client.request(method, "/mcp", headers={"Authorization": f"DPoP {token}", "DPoP": proof})


async def deploy(
    policy: DPoPPolicy | None, replay: ReplayCache | None = None, scopes: tuple[str, ...] = ("oscal:read",)
) -> AsyncIterator[Deployment]:
    verifier = FakeBindingVerifier({"bound": KEY.thumbprint}, {"plain"})
    replay = replay if replay is not None else ReplayCache()
    resource = ProtectedResource(RESOURCE, (ISSUER,), scopes, dpop=policy)
    app = Starlette(routes=protect(Endpoint(), verifier, resource, replay=replay))
    # The server is reached at its internal address; clients use the public one (a reverse proxy).
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.5:8000") as client:
        yield Deployment(client, verifier, replay)


@pytest.fixture
async def deployment() -> AsyncIterator[Deployment]:
    async for made in deploy(DPoPPolicy()):
        yield made


@pytest.fixture
async def required() -> AsyncIterator[Deployment]:
    async for made in deploy(DPoPPolicy(required=True)):
        yield made


def challenges(response: httpx.Response) -> dict[str, str]:
    values = response.headers.get_list("www-authenticate")
    return {value.partition(" ")[0]: value for value in values}


async def test_a_bound_token_with_a_good_proof_reaches_the_endpoint(deployment: Deployment) -> None:
    response = await deployment.dpop()
    assert response.status_code == 200, response.text
    assert deployment.verifier.calls == [("bound", KEY.thumbprint)]


async def test_a_plain_token_under_dpop_is_accepted_when_dpop_is_optional(deployment: Deployment) -> None:
    assert (await deployment.dpop("plain")).status_code == 200


async def test_every_401_offers_bearer_and_dpop_with_the_same_metadata_and_scope(deployment: Deployment) -> None:
    response = await deployment.client.post("/mcp")
    assert response.status_code == 401
    metadata = f'resource_metadata="https://mcp.example.com{METADATA_PATH}", scope="oscal:read"'
    assert response.headers.get_list("www-authenticate") == [
        f"Bearer {metadata}",
        f'DPoP algs="ES256 RS256", {metadata}',
    ]


async def test_a_bad_proof_is_invalid_dpop_proof_on_the_dpop_challenge(deployment: Deployment) -> None:
    response = await deployment.dpop(proof=KEY.proof("POST", RESOURCE, access_token="another-token"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_dpop_proof"
    offered = challenges(response)
    assert offered["DPoP"].startswith(
        'DPoP error="invalid_dpop_proof", error_description="Invalid DPoP proof (dpop_ath)'
    )
    assert "error=" not in offered["Bearer"]
    assert deployment.verifier.refused == ["dpop_ath"] and deployment.verifier.calls == []


async def test_a_missing_proof_is_refused(deployment: Deployment) -> None:
    response = await deployment.client.post("/mcp", headers={"Authorization": "DPoP bound"})
    assert response.json()["error"] == "invalid_dpop_proof"
    assert deployment.verifier.refused == ["dpop_header"]


async def test_htu_is_the_public_url_not_the_address_the_server_is_reached_at(deployment: Deployment) -> None:
    internal = KEY.proof("POST", "http://10.0.0.5:8000/mcp", access_token="bound")
    assert (await deployment.dpop(proof=internal)).json()["error"] == "invalid_dpop_proof"
    assert deployment.verifier.refused == ["dpop_htu"]
    assert (await deployment.dpop()).status_code == 200


async def test_a_replayed_proof_is_refused(deployment: Deployment) -> None:
    proof = KEY.proof("POST", RESOURCE, access_token="bound")
    assert (await deployment.dpop(proof=proof)).status_code == 200
    response = await deployment.dpop(proof=proof)
    assert (response.status_code, response.json()["error"]) == (401, "invalid_dpop_proof")
    assert deployment.verifier.refused == ["dpop_replay"]


async def test_a_token_bound_to_another_key_is_invalid_token_on_the_dpop_challenge(deployment: Deployment) -> None:
    response = await deployment.dpop(proof=OTHER_KEY.proof("POST", RESOURCE, access_token="bound"))
    assert response.status_code == 401
    assert challenges(response)["DPoP"].startswith('DPoP error="invalid_token"')
    assert deployment.verifier.calls == [("bound", OTHER_KEY.thumbprint)]


async def test_a_refused_token_does_not_consume_its_proof(deployment: Deployment) -> None:
    """The replay cache is written last: a proof for a token that fails takes no entry."""
    proof = OTHER_KEY.proof("POST", RESOURCE, access_token="bound")
    assert (await deployment.dpop(proof=proof)).status_code == 401
    assert len(deployment.replay) == 0
    assert (await deployment.dpop()).status_code == 200
    assert len(deployment.replay) == 1


async def test_a_bound_token_under_bearer_is_refused(deployment: Deployment) -> None:
    response = await deployment.client.post("/mcp", headers={"Authorization": "Bearer bound"})
    assert response.status_code == 401
    assert challenges(response)["Bearer"].startswith('Bearer error="invalid_token"')


async def test_insufficient_scope_under_dpop_names_the_error_on_the_dpop_challenge() -> None:
    async for deployment in deploy(DPoPPolicy(), scopes=("oscal:write",)):
        response = await deployment.dpop()
        assert response.status_code == 403
        assert challenges(response)["DPoP"].startswith('DPoP error="insufficient_scope"')
        assert "error=" not in challenges(response)["Bearer"]


async def test_where_dpop_is_required_bearer_is_not_offered_nor_verified(required: Deployment) -> None:
    response = await required.client.post("/mcp", headers={"Authorization": "Bearer plain"})
    assert response.status_code == 401
    assert list(challenges(response)) == ["DPoP"]
    assert required.verifier.calls == []
    assert (await required.dpop()).status_code == 200


async def test_dpop_is_no_credential_where_the_resource_does_not_take_it() -> None:
    async for deployment in deploy(None):
        response = await deployment.dpop()
        assert response.status_code == 401
        assert response.headers.get_list("www-authenticate") == [
            f'Bearer resource_metadata="https://mcp.example.com{METADATA_PATH}", scope="oscal:read"'
        ]
        assert deployment.verifier.calls == []


class DownStore:
    """A shared store that cannot be reached (as `RedisStore` reports it: None)."""

    async def get(self, key: str) -> tuple[Any, float] | None:
        return None

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        return None

    async def add(self, key: str, value: Any, ttl_seconds: float) -> bool | None:
        return None

    async def aclose(self) -> None:
        return None


async def test_an_unreachable_shared_replay_cache_answers_503_without_a_challenge() -> None:
    down: SharedStore = DownStore()
    async for deployment in deploy(DPoPPolicy(), ReplayCache(shared=down)):
        response = await deployment.dpop()
        assert (response.status_code, response.headers["retry-after"]) == (503, "5")
        assert "www-authenticate" not in response.headers
        assert deployment.verifier.refused == ["replay_cache_unavailable"]
        assert (await deployment.client.post("/mcp", headers={"Authorization": "Bearer plain"})).status_code == 200


async def test_dpop_needs_a_verifier_that_checks_binding() -> None:
    class PlainVerifier:
        async def verify_token(self, token: str) -> AccessToken | None:
            return None

    with pytest.raises(ConfigurationError, match="verify_bound"):
        BearerAuth(Endpoint(), PlainVerifier(), ProtectedResource(RESOURCE, dpop=DPoPPolicy()))


async def test_the_metadata_names_the_dpop_algorithms_and_whether_dpop_is_required(required: Deployment) -> None:
    document = json.loads((await required.client.get(METADATA_PATH)).content)
    assert document["dpop_signing_alg_values_supported"] == ["ES256", "RS256"]
    assert document["dpop_bound_access_tokens_required"] is True
    assert document["authorization_servers"] == [ISSUER]


async def test_a_proof_check_that_breaks_unexpectedly_is_a_refusal_never_a_500(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> None:
        raise KeyError("a bug the fuzz has not found yet")

    monkeypatch.setattr("oscal_mcp_auth.asgi.check_proof", broken)
    response = await deployment.dpop()
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_dpop_proof"
    assert response.json()["error_description"] == "Invalid DPoP proof (dpop_malformed): the proof could not be read"
    assert deployment.verifier.told == [("bound", "dpop_malformed", "the proof could not be read")]
    assert "DPoP proof check raised KeyError; the proof is refused" in caplog.messages
