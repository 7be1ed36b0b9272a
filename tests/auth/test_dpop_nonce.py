"""Server-provided DPoP nonces (RFC 9449 section 9): issued, rotated, shared by replicas holding
the same secret, and demanded with ``use_dpop_nonce`` where they are on."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from oscal_mcp_auth import ProtectedResource, protect
from oscal_mcp_auth.dpop import DPoPPolicy, InvalidProof, ProofTarget, check_proof
from oscal_mcp_auth.dpop_nonce import NonceIssuer
from tests.auth.dpop_fakes import ISSUER, KEY, RESOURCE, Endpoint, FakeBindingVerifier
from tests.e2e.dpop_client import DPoPKey

SECRET = b"n" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_nonce_lives_through_its_period_and_the_next() -> None:
    clock = Clock()
    issuer = NonceIssuer(rotate_seconds=60, clock=clock)
    nonce = issuer.current()
    clock.now += 60
    assert issuer.accepts(nonce) and issuer.current() != nonce
    clock.now += 60
    assert not issuer.accepts(nonce)


def test_replicas_sharing_the_secret_accept_each_others_nonces() -> None:
    one, two, stranger = NonceIssuer.from_secret(SECRET), NonceIssuer.from_secret(SECRET), NonceIssuer()
    assert two.accepts(one.current())
    assert not stranger.accepts(one.current())
    current = one.current()
    altered = current[:-1] + ("B" if current.endswith("A") else "A")  # "+ 'A'" alone was the nonce 1 time in 64
    for junk in (None, 5, "", "x" * 65, altered):
        assert not one.accepts(junk)


def test_a_proof_without_an_accepted_nonce_is_refused() -> None:
    issuer = NonceIssuer()
    target = ProofTarget("POST", RESOURCE, "tok")
    with pytest.raises(InvalidProof) as refused:
        check_proof(KEY.proof("POST", RESOURCE, access_token="tok"), target, DPoPPolicy(), time.time(), issuer)
    assert refused.value.reason == "dpop_nonce"
    proof = KEY.proof("POST", RESOURCE, access_token="tok", claims={"nonce": issuer.current()})
    assert check_proof(proof, target, DPoPPolicy(), time.time(), issuer).thumbprint == KEY.thumbprint


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    verifier = FakeBindingVerifier({"bound": KEY.thumbprint}, {"plain"})
    resource = ProtectedResource(RESOURCE, (ISSUER,), ("oscal:read",), dpop=DPoPPolicy())
    app = Starlette(routes=protect(Endpoint(), verifier, resource, nonces=NonceIssuer()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://10.0.0.5") as made:
        yield made


@pytest.mark.anyio
async def test_the_client_is_told_the_nonce_and_gets_through_with_it(client: httpx.AsyncClient) -> None:
    def headers(key: DPoPKey, nonce: str | None = None) -> dict[str, str]:
        claims = {"nonce": nonce} if nonce else None
        return {"Authorization": "DPoP bound", "DPoP": key.proof("POST", RESOURCE, access_token="bound", claims=claims)}

    first = await client.post("/mcp", headers=headers(KEY))
    assert first.status_code == 401 and first.json()["error"] == "use_dpop_nonce", first.text
    assert 'DPoP error="use_dpop_nonce"' in first.headers.get_list("www-authenticate")[1]
    nonce = first.headers["dpop-nonce"]
    second = await client.post("/mcp", headers=headers(KEY, nonce))
    assert second.status_code == 200 and second.headers["dpop-nonce"]
    bearer = await client.post("/mcp", headers={"Authorization": "Bearer plain"})
    assert bearer.status_code == 200 and "dpop-nonce" not in bearer.headers


@pytest.mark.anyio
async def test_a_refusal_under_dpop_carries_one_current_nonce() -> None:
    verifier = FakeBindingVerifier({"bound": KEY.thumbprint}, set())
    issuer = NonceIssuer()
    resource = ProtectedResource(RESOURCE, (ISSUER,), ("oscal:write",), dpop=DPoPPolicy())
    app = Starlette(routes=protect(Endpoint(), verifier, resource, nonces=issuer))
    proof = KEY.proof("POST", RESOURCE, access_token="bound", claims={"nonce": issuer.current()})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://10.0.0.5") as client:
        response = await client.post("/mcp", headers={"Authorization": "DPoP bound", "DPoP": proof})
    assert response.status_code == 403
    assert response.headers.get_list("dpop-nonce") == [issuer.current()]
