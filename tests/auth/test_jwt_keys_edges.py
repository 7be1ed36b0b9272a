"""Edges of the jwt verifier and its key sets that a careless change would open: the client allow-list
for a token naming no client, a missing ``typ`` under ``REQUIRE_TYP``, the result cache past ``exp``,
a one-key JWKS and a kid, and a key set published by another replica that lacks the kid needed."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from jose.exceptions import JOSEError

from oscal_mcp_auth import AuthConfig, ConfigurationError, TokenRejected
from oscal_mcp_auth.backends.jwt import JwtSettings, JwtVerifier, create_verifier
from oscal_mcp_auth.http import FetchError
from oscal_mcp_auth.issuers import IssuerKeys, Issuers
from oscal_mcp_auth.jwks import JwksCache, KeySet, KeysExpired, SigningKey
from oscal_mcp_auth.logsafe import shown
from tests.auth.jwks_fakes import Clock, Published
from tests.auth.keys import ISSUER, RESOURCE, claims, mint, private_jwks, private_key, public_keys, signing_key
from tests.e2e.as_fixture import generate_keys, public_jwks, public_pem

NOW = 1_800_000_000
LEEWAY = 60
URI = "https://as.example.com/jwks"
pytestmark = [pytest.mark.anyio, pytest.mark.time_machine(NOW, tick=False)]


def config() -> AuthConfig:
    return AuthConfig.from_mapping(
        {
            "OSCAL_AUTH_ISSUER_URL": ISSUER,
            "OSCAL_AUTH_RESOURCE_SERVER_URL": RESOURCE,
            "OSCAL_AUTH_LEEWAY_SECONDS": str(LEEWAY),
        }
    )


class CountingKeySet(KeySet):
    lookups = 0

    def find(self, kid: str | None, alg: str) -> Any:
        self.lookups += 1
        return super().find(kid, alg)


def verifier(keys: KeySet | JwksCache | None = None, **settings: Any) -> JwtVerifier:
    jwt_settings = JwtSettings(**settings)
    keys = keys if keys is not None else KeySet.from_jwks(public_keys(), jwt_settings.algorithms)
    return JwtVerifier(config(), jwt_settings, keys)


async def refusal(checker: JwtVerifier, token: str) -> str:
    with pytest.raises(TokenRejected) as rejected:
        await checker.verify_token(token)
    return rejected.value.reason


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def signed(header: dict[str, Any], body: dict[str, Any], kid: str = "rs-1") -> str:
    """A token with exactly this header (python-jose always adds a typ)."""
    signing_input = f"{b64(header)}.{b64(body)}"
    signature = signing_key(kid, "RS256").sign(signing_input.encode())
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


@pytest.mark.parametrize("client_claims", [{"client_id": None}, {"client_id": None, "aud": None}])
async def test_the_client_allow_list_refuses_a_token_that_names_no_client(client_claims: dict[str, Any]) -> None:
    checker = verifier(allowed_client_ids=("cognito-app",))
    assert await refusal(checker, mint(**client_claims)) == "wrong_client"
    assert (await checker.verify_token(mint(client_id="cognito-app"))).client_id == "cognito-app"


async def test_a_token_without_a_typ_header_is_refused_when_typ_is_required() -> None:
    token = signed({"alg": "RS256", "kid": "rs-1"}, claims())
    assert (await verifier().verify_token(token)).client_id == "client-1"
    assert await refusal(verifier(require_typ=True), token) == "bad_typ"
    typed = signed({"alg": "RS256", "kid": "rs-1", "typ": "application/AT+JWT"}, claims())
    assert (await verifier(require_typ=True).verify_token(typed)).client_id == "client-1"


async def test_a_token_past_its_exp_is_never_served_from_the_result_cache() -> None:
    """Accepted within the leeway, but not kept: without the pipeline's own check a kept result
    would outlive the token's exp by the whole cache TTL."""
    keys = CountingKeySet.from_jwks(public_keys(), ("RS256",))
    assert isinstance(keys, CountingKeySet)
    checker = verifier(keys)
    late = mint(exp=NOW - LEEWAY // 2)
    await checker.verify_token(late)
    await checker.verify_token(late)
    assert keys.lookups == 2
    fresh = mint(exp=NOW + 30)
    await checker.verify_token(fresh)
    await checker.verify_token(fresh)
    assert keys.lookups == 3


async def test_a_zero_result_cache_keeps_nothing() -> None:
    keys = CountingKeySet.from_jwks(public_keys(), ("RS256",))
    assert isinstance(keys, CountingKeySet)
    checker = verifier(keys, result_cache_seconds=0)
    token = mint()
    await checker.verify_token(token)
    await checker.verify_token(token)
    assert keys.lookups == 2


def one_key_jwks(kid: str = "rs-1") -> dict[str, Any]:
    return {"keys": [key for key in public_keys()["keys"] if key["kid"] == kid]}


def jwks_cache(clock: Clock, shared: Any = None) -> JwksCache:
    async def resolve() -> str:
        return URI

    return JwksCache(httpx.AsyncClient(), resolve, allowed_algorithms=("RS256", "ES256"), clock=clock, shared=shared)


@respx.mock
async def test_a_one_key_jwks_serves_only_the_kid_it_names() -> None:
    respx.get(URI).respond(200, json=one_key_jwks())
    cache = jwks_cache(Clock())
    assert await cache.find("other", "RS256") is None
    assert await cache.find(None, "RS256") is None
    found = await cache.find("rs-1", "RS256")
    assert found is not None and found.kid == "rs-1"
    token = signed({"alg": "RS256", "kid": "other", "typ": "at+jwt"}, claims())  # really signed by rs-1
    assert await refusal(verifier(cache), token) == "unknown_key"


async def test_a_fixed_one_key_set_from_jwks_serves_only_its_kid() -> None:
    keys = KeySet.from_jwks(one_key_jwks(), ("RS256",))
    member = IssuerKeys(ISSUER, keys)
    assert await member.find("other", "RS256") is None
    assert await refusal(verifier(keys), signed({"alg": "RS256", "kid": "other"}, claims())) == "unknown_key"
    assert not Issuers([member]).select(ISSUER + "/")


@respx.mock
async def test_a_replica_takes_a_published_key_set_only_if_it_has_the_kid_needed() -> None:
    rotated = public_jwks(generate_keys(("rs-2", "es-2")))
    route = respx.get(URI).respond(200, json=rotated)
    clock = Clock()
    shared = Published(one_key_jwks())
    cache = jwks_cache(clock, shared)
    assert (await cache.find("rs-1", "RS256")) is not None  # the published set, no fetch
    assert route.call_count == 0
    clock.now += 31
    found = await cache.find("rs-2", "RS256")  # not in the published set: asks the AS
    assert found is not None and found.kid == "rs-2"
    assert route.call_count == 1
    assert shared.written == [("document", rotated, 300)]


@respx.mock
async def test_a_published_key_set_is_kept_only_for_its_remaining_lifetime() -> None:
    route = respx.get(URI).respond(200, json=public_keys())
    clock = Clock()
    shared = Published(one_key_jwks(), remaining=40)
    cache = jwks_cache(clock, shared)
    await cache.find("rs-1", "RS256")
    shared.document = None  # expired in the store too
    clock.now += 39
    await cache.find("rs-1", "RS256")
    assert route.call_count == 0
    clock.now += 2
    await cache.find("rs-1", "RS256")
    assert route.call_count == 1


@respx.mock
async def test_a_broken_published_key_set_is_ignored() -> None:
    route = respx.get(URI).respond(200, json=public_keys())
    cache = jwks_cache(Clock(), Published({"no": "keys"}))
    assert await cache.find("rs-1", "RS256") is not None
    assert route.call_count == 1


def test_the_test_keys_hold_both_kids() -> None:
    assert {key["kid"] for key in private_jwks()["keys"]} == {"rs-1", "es-1"}


def pem_config(public_key: str, issuers: str = ISSUER) -> AuthConfig:
    return AuthConfig.from_mapping(
        {
            "OSCAL_AUTH_ISSUER_URL": issuers,
            "OSCAL_AUTH_RESOURCE_SERVER_URL": RESOURCE,
            "OSCAL_AUTH_JWT_PUBLIC_KEY": public_key,
        }
    )


async def test_the_public_key_is_given_as_pem_text_or_as_a_file(tmp_path: Path) -> None:
    pem = public_pem(private_key("rs-1"))
    key_file = tmp_path / "key.pem"
    key_file.write_text(pem, encoding="utf-8")
    for value in (pem, str(key_file)):
        checker = create_verifier(pem_config(value))
        assert (await checker.verify_token(mint())).client_id == "client-1"
        await checker.aclose()


def test_a_single_key_source_with_several_issuers_names_both_settings() -> None:
    with pytest.raises(ConfigurationError) as refused:
        create_verifier(pem_config("-----BEGIN PUBLIC KEY-----", f"{ISSUER},https://other.example.com"))
    assert str(refused.value) == (
        "OSCAL_AUTH_JWT_PUBLIC_KEY is one key source, and only works with one issuer; OSCAL_AUTH_ISSUER_URL lists "
        "2: unset OSCAL_AUTH_JWT_PUBLIC_KEY (each issuer's keys are found through its metadata)"
    )


async def test_a_refusal_of_the_claims_names_the_tokens_kid_and_jti() -> None:
    with pytest.raises(TokenRejected) as rejected:
        await verifier().verify_token(mint(exp=NOW - LEEWAY - 1, jti="jti-expired"))
    assert (rejected.value.reason, str(rejected.value)) == ("expired", "expired: kid='rs-1' jti='jti-expired'")


class RaisingKey:
    """A key object whose verification fails with an error instead of answering."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def verify(self, signing_input: bytes, signature: bytes) -> bool:
        raise self.error


@pytest.mark.parametrize("error", [ValueError("bad point"), TypeError("wrong key type"), JOSEError("jose")])
async def test_a_key_that_fails_while_verifying_never_accepts(error: Exception) -> None:
    keys = KeySet([SigningKey("rs-1", "RS256", RaisingKey(error))])  # type: ignore[arg-type]
    assert await refusal(verifier(keys), mint()) == "bad_signature"


async def test_an_unknown_kid_is_named_cut_to_64_characters() -> None:
    kid = "k" * 100
    token = signed({"alg": "RS256", "kid": kid, "typ": "at+jwt"}, claims())
    with pytest.raises(TokenRejected) as rejected:
        await verifier().verify_token(token)
    assert (rejected.value.reason, str(rejected.value)) == (
        "unknown_key",
        f"unknown_key: kid={shown(kid, 64)} alg=RS256",
    )
    assert len(shown(kid, 64)) == 64


async def test_the_key_sources_failures_are_named() -> None:
    class Failing(KeySet):
        def __init__(self, error: Exception) -> None:
            super().__init__([])
            self.error = error

        def find(self, kid: str | None, alg: str) -> Any:
            raise self.error

    expired = verifier(Failing(KeysExpired("no successful JWKS refresh for over 600 s")))
    assert str(await rejection_of(expired)) == "keys_unavailable: no successful JWKS refresh for over 600 s"
    down = verifier(Failing(FetchError("unreachable", "GET https://as/jwks: ConnectError")))
    assert str(await rejection_of(down)) == "jwks_unavailable: unreachable"


async def rejection_of(checker: JwtVerifier) -> TokenRejected:
    with pytest.raises(TokenRejected) as rejected:
        await checker.verify_token(mint())
    return rejected.value


async def test_the_identity_carries_the_claims_handed_on_and_nothing_made_up() -> None:
    access = await verifier().verify_token(mint(client_id=None, sub=5, azp="spa", extra="x"))
    assert (access.client_id, access.subject) == ("spa", None)
    assert access.claims == {"iss": ISSUER, "aud": RESOURCE, "jti": "jti-1", "azp": "spa"}
    nobody = await verifier().verify_token(mint(client_id=None, jti="j2"))
    assert nobody.client_id == ""


async def test_header_and_issuer_refusals_name_what_was_wrong() -> None:
    with pytest.raises(TokenRejected) as algorithm:
        await verifier().verify_token(mint(alg="RS384", jti="j-alg"))
    assert str(algorithm.value) == "bad_algorithm: alg='RS384' kid='rs-1' jti=None"
    with pytest.raises(TokenRejected) as issuer:
        await verifier().verify_token(mint(iss=["not", "a", "string"], jti="j-iss"))
    assert issuer.value.reason == "bad_claim"
    assert str(issuer.value).endswith("; kid='rs-1' jti='j-iss'")


async def test_header_refusals_name_the_kid_and_cut_the_alg_and_kid_they_quote() -> None:
    long_kid = "k" * 100
    with pytest.raises(TokenRejected) as algorithm:
        await verifier().verify_token(mint(headers={"alg": "A" * 40, "kid": long_kid}))
    cut_alg, cut_kid = "'" + "A" * 20 + "...", "'" + "k" * 60 + "..."  # 24 and 64 characters
    assert str(algorithm.value) == f"bad_algorithm: alg={cut_alg} kid={cut_kid} jti=None"
    with pytest.raises(TokenRejected) as crit:
        await verifier().verify_token(mint(headers={"crit": ["exp"]}))
    assert str(crit.value) == "unsupported_crit: kid='rs-1' jti=None"
    with pytest.raises(TokenRejected) as typ:
        await verifier(require_typ=True).verify_token(mint(headers={"typ": "JWT"}))
    assert str(typ.value) == "bad_typ: kid='rs-1' jti=None"


async def test_a_claim_refusal_cuts_the_jti_it_quotes() -> None:
    with pytest.raises(TokenRejected) as issuer:
        await verifier().verify_token(mint(iss=["not", "a", "string"], jti="j" * 100))
    assert str(issuer.value).endswith("; kid='rs-1' jti='" + "j" * 60 + "...")
