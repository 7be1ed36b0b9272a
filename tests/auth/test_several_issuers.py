"""The jwt verifier with several issuers (``OSCAL_AUTH_ISSUER_URL=a,b``), and the verifiers that
support only one. Fake Authorization Servers on respx; real Redis for the shared key sets."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
import respx

from oscal_mcp_auth import AuthConfig, ConfigurationError, TokenRejected, load_verifier
from oscal_mcp_auth.backends import introspection, jwt
from tests.auth.fake_issuers import ISSUER_A, ISSUER_B, FakeAuthorizationServer
from tests.auth.keys import RESOURCE
from tests.redis_server import RedisServer

pytestmark = pytest.mark.anyio
BOTH = f"{ISSUER_A},{ISSUER_B}"


def config(issuers: str = BOTH, **env: str) -> AuthConfig:
    return AuthConfig.from_mapping(
        {"OSCAL_AUTH_ISSUER_URL": issuers, "OSCAL_AUTH_RESOURCE_SERVER_URL": RESOURCE, **env}
    )


@pytest.fixture
def router() -> Any:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def fakes(router: respx.MockRouter) -> tuple[FakeAuthorizationServer, FakeAuthorizationServer]:
    return FakeAuthorizationServer(router, ISSUER_A), FakeAuthorizationServer(router, ISSUER_B)


async def reason(verifier: jwt.JwtVerifier, token: str) -> str:
    with pytest.raises(TokenRejected) as rejected:
        await verifier.verify_token(token)
    return rejected.value.reason


def relabelled(token: str, iss: str) -> str:
    header, payload, signature = token.split(".")
    claims = {**json.loads(base64.urlsafe_b64decode(payload + "==")), "iss": iss}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


def test_the_list_is_read_in_order_and_the_first_is_the_primary_issuer() -> None:
    listed = config(f" {ISSUER_B} , {ISSUER_A},{ISSUER_B}")  # spaces and a repeat are harmless
    assert listed.issuer_urls == (ISSUER_B, ISSUER_A)
    assert listed.issuer_url == ISSUER_B
    assert listed.verifier == "jwt"
    assert config(ISSUER_A).issuer_urls == (ISSUER_A,)


def test_a_bad_entry_in_the_list_names_the_setting() -> None:
    with pytest.raises(ConfigurationError, match="OSCAL_AUTH_ISSUER_URL"):
        config(f"{ISSUER_A},not-a-url")


async def test_tokens_of_every_listed_issuer_are_accepted(
    fakes: tuple[FakeAuthorizationServer, FakeAuthorizationServer],
) -> None:
    verifier = jwt.create_verifier(config())
    for fake in fakes:
        for kid in ("rs-1", "es-1"):
            access = await verifier.verify_token(fake.access_token(kid, jti=f"{fake.issuer}{kid}"))
            assert access.claims is not None and access.claims["iss"] == fake.issuer
    assert [(fake.discovery.call_count, fake.jwks.call_count) for fake in fakes] == [(1, 1), (1, 1)]
    await verifier.aclose()


@pytest.mark.parametrize(
    "iss",
    ["https://c.example.com/", ISSUER_B.rstrip("/"), ISSUER_A + "/", ISSUER_A.upper(), None],
    ids=["another", "without-slash", "with-slash", "upper-case", "missing"],
)
async def test_an_unlisted_issuer_is_refused_without_any_request(
    router: respx.MockRouter, fakes: tuple[FakeAuthorizationServer, FakeAuthorizationServer], iss: str | None
) -> None:
    verifier = jwt.create_verifier(config())
    assert await reason(verifier, fakes[0].access_token(iss=iss)) == "wrong_issuer"
    assert not router.calls
    await verifier.aclose()


async def test_a_token_signed_by_one_issuer_naming_the_other_is_refused(
    fakes: tuple[FakeAuthorizationServer, FakeAuthorizationServer],
) -> None:
    verifier = jwt.create_verifier(config())
    for source, target in (fakes, fakes[::-1]):
        token = source.access_token()
        assert await verifier.verify_token(token)  # genuine, and its issuer's keys are now cached
        assert await reason(verifier, relabelled(token, target.issuer)) == "bad_signature"
        resigned = source.access_token(iss=target.issuer, jti="resigned")  # valid signature, wrong keys
        assert await reason(verifier, resigned) == "bad_signature"
    await verifier.aclose()


async def test_a_kid_only_the_other_issuer_publishes_is_unknown(
    router: respx.MockRouter, fakes: tuple[FakeAuthorizationServer, FakeAuthorizationServer]
) -> None:
    from tests.e2e.as_fixture import generate_rsa_jwk, public_jwks

    as_a, as_b = fakes
    only_a = generate_rsa_jwk("only-a")
    as_a.keys["keys"].append(only_a)
    as_a.jwks.mock(return_value=httpx.Response(200, json=public_jwks(as_a.keys)))
    verifier = jwt.create_verifier(config())
    assert await verifier.verify_token(as_a.access_token("only-a"))
    assert await reason(verifier, as_a.access_token("only-a", iss=as_b.issuer)) == "unknown_key"
    as_a.keys["keys"].remove(only_a)
    await verifier.aclose()


@pytest.mark.parametrize("outage", [httpx.ConnectError("refused"), httpx.Response(503)])
async def test_one_issuer_down_leaves_the_others_tokens_working(
    fakes: tuple[FakeAuthorizationServer, FakeAuthorizationServer], outage: Any
) -> None:
    as_a, as_b = fakes
    as_a.discovery.mock(side_effect=outage) if isinstance(outage, Exception) else as_a.jwks.mock(return_value=outage)
    verifier = jwt.create_verifier(config())
    assert await reason(verifier, as_a.access_token()) == "jwks_unavailable"
    assert (await verifier.verify_token(as_b.access_token())).client_id == "client-1"
    await verifier.aclose()


@pytest.mark.parametrize(
    "setting", ["OSCAL_AUTH_JWT_JWKS_URI", "OSCAL_AUTH_JWT_PUBLIC_KEY"], ids=["jwks-uri", "public-key"]
)
def test_a_single_key_source_with_several_issuers_is_refused(setting: str) -> None:
    value = "https://a.example.com/jwks" if setting.endswith("URI") else "-----BEGIN PUBLIC KEY-----"
    with pytest.raises(ConfigurationError, match=f"{setting} .*one issuer"):
        jwt.create_verifier(config(**{setting: value}))


def test_the_introspection_verifier_refuses_several_issuers_in_one_line() -> None:
    settings = {"OSCAL_AUTH_INTROSPECTION_CLIENT_ID": "rs", "OSCAL_AUTH_INTROSPECTION_CLIENT_SECRET": "s3cret"}
    with pytest.raises(ConfigurationError) as refused:
        introspection.create_verifier(config(OSCAL_AUTH_VERIFIER="introspection", **settings))
    message = str(refused.value)
    assert "\n" not in message
    assert "supports one issuer" in message and "OSCAL_AUTH_ISSUER_URL" in message
    with pytest.raises(ConfigurationError, match="supports one issuer"):
        load_verifier(config(OSCAL_AUTH_VERIFIER="introspection", **settings))


async def test_each_issuers_keys_are_shared_through_redis_under_a_key_of_their_own(
    redis_server: RedisServer, fakes: tuple[FakeAuthorizationServer, FakeAuthorizationServer]
) -> None:
    shared = config(OSCAL_AUTH_CACHE_URL=redis_server.url, OSCAL_AUTH_CACHE_SECRET="k" * 32)
    first, second = jwt.create_verifier(shared), jwt.create_verifier(shared)  # two replicas
    for fake in fakes:
        assert await first.verify_token(fake.access_token())
    keys = [key for key in redis_server.command("KEYS", "*jwks*").split(b"\r\n") if b"jwks" in key]
    assert len(keys) == 2  # one key set per issuer
    for fake in fakes:
        assert await second.verify_token(fake.access_token(jti="seen-by-the-second-replica"))
    assert [(fake.discovery.call_count, fake.jwks.call_count) for fake in fakes] == [(1, 1), (1, 1)]
    await first.aclose()
    await second.aclose()
