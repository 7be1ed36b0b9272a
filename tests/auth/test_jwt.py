"""The jwt backend's checks, each with the reason it logs (keys in memory, no network)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oscal_mcp_auth import AuthConfig, ConfigurationError, TokenRejected
from oscal_mcp_auth.backends.jwt import JwtSettings, JwtVerifier, create_verifier
from oscal_mcp_auth.jwks import KeySet, key_set_from_pem
from tests.auth.keys import ISSUER, RESOURCE, claims, mint, private_key, public_keys
from tests.e2e.as_fixture import public_pem

pytestmark = pytest.mark.anyio


def config(**env: str) -> AuthConfig:
    values = {
        "OSCAL_AUTH_ISSUER_URL": ISSUER,
        "OSCAL_AUTH_RESOURCE_SERVER_URL": RESOURCE,
        "OSCAL_AUTH_LEEWAY_SECONDS": "60",
    }
    values.update(env)
    return AuthConfig.from_mapping(values)


def verifier(**settings: Any) -> JwtVerifier:
    jwt_settings = JwtSettings(**settings)
    return JwtVerifier(config(), jwt_settings, KeySet.from_jwks(public_keys(), jwt_settings.algorithms))


async def reason_for(token: str, **settings: Any) -> str:
    with pytest.raises(TokenRejected) as rejected:
        await verifier(**settings).verify_token(token)
    return rejected.value.reason


def b64(data: Any) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_valid_rs256_and_es256_tokens_map_to_an_identity() -> None:
    for kid, alg in (("rs-1", "RS256"), ("es-1", "ES256")):
        access = await verifier().verify_token(mint(kid, alg, scope="oscal:read oscal:write"))
        assert (access.client_id, access.subject, access.scopes) == (
            "client-1",
            "user-1",
            ["oscal:read", "oscal:write"],
        )
        assert access.resource == RESOURCE
        assert access.claims is not None and access.claims["iss"] == ISSUER


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 61}, "expired"),
        ({"exp": None}, "missing_claim"),
        ({"exp": "9999999999"}, "bad_claim"),
        ({"exp": True}, "bad_claim"),
        ({"exp": -5}, "expired"),
        ({"exp": int(time.time()) + 86_400 + 120}, "lifetime_too_long"),
        ({"nbf": int(time.time()) + 120}, "not_yet_valid"),
        ({"iat": int(time.time()) + 120}, "issued_in_future"),
        ({"iss": ISSUER + "/"}, "wrong_issuer"),
        ({"iss": None}, "wrong_issuer"),
        ({"aud": "https://other.example.com/mcp"}, "wrong_audience"),
        ({"aud": ["https://a.example.com", "https://b.example.com"]}, "wrong_audience"),
        ({"aud": None}, "no_audience"),
        ({"aud": 42}, "bad_claim"),
        ({"scope": {"read": True}}, "bad_claim"),
        ({"exp": 10**400}, "bad_claim"),  # overflows a float: a refusal, not a verifier error
    ],
)
async def test_claim_checks(overrides: dict[str, Any], reason: str) -> None:
    assert await reason_for(mint(**overrides)) == reason


async def test_a_bound_tokens_cnf_is_handed_on_for_the_binding_check() -> None:
    """The pipeline refuses it under Bearer and matches it with a DPoP proof (test_pipeline)."""
    cnf = {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}
    access = await verifier().verify_token(mint(cnf=cnf))
    assert access.claims is not None and access.claims["cnf"] == cnf


async def test_leeway_and_float_exp_are_accepted() -> None:
    await verifier().verify_token(mint(exp=time.time() - 30.5))  # within the 60 s leeway


async def test_audience_list_containing_this_resource_is_accepted() -> None:
    await verifier().verify_token(mint(aud=["https://other.example.com", RESOURCE + "/"]))


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"crit": ["exp"]}, "unsupported_crit"),
        ({"typ": "JWT"}, "bad_typ"),
    ],
)
async def test_header_checks(headers: dict[str, Any], reason: str) -> None:
    assert await reason_for(mint(headers=headers), require_typ=True) == reason


async def test_key_url_headers_are_ignored() -> None:
    token = mint(headers={"jku": "https://evil.example/jwks", "x5u": "https://evil.example/x5u"})
    assert (await verifier().verify_token(token)).client_id == "client-1"


@pytest.mark.parametrize(
    ("token_maker", "reason"),
    [
        (lambda: f"{b64({'alg': 'none'})}.{b64(claims())}.", "bad_algorithm"),
        (lambda: mint(alg="RS256", kid="rs-1").rsplit(".", 1)[0] + "." + b64(b"x" * 256), "bad_signature"),
        (lambda: "a.b.c.d.e", "encrypted_token"),
        (lambda: "a.b", "malformed_token"),
        (lambda: "!!!.@@@.###", "malformed_token"),
        (lambda: f"{b64([1, 2])}.{b64(claims())}.sig", "malformed_token"),
        (lambda: mint(kid="es-1", alg="ES256", headers={"kid": "rs-1"}), "unknown_key"),  # RSA key, ES256 header
        (lambda: mint(headers={"kid": "nobody"}), "unknown_key"),
    ],
)
async def test_structural_and_signature_checks(token_maker: Any, reason: str) -> None:
    assert await reason_for(token_maker()) == reason


def respell(token: str, segment: int, spell: Any) -> str:
    parts = token.split(".")
    parts[segment] = spell(parts[segment])
    return ".".join(parts)


def padded(segment: str) -> str:
    return segment + "=" * (-len(segment) % 4)


def standard_alphabet(segment: str) -> str:
    return base64.b64encode(base64.urlsafe_b64decode(padded(segment))).decode().rstrip("=")


def stray_bits(segment: str) -> str:
    """The same bytes with the unused low bits of the last character set (RFC 4648 section 3.5)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return segment[:-1] + alphabet[alphabet.index(segment[-1]) | 1]


def awkward_token() -> str:
    """A valid token whose every segment has a character that differs between the two base64
    alphabets and ends in a partial group (so padding and stray bits are possible)."""
    for n in range(49):  # "???" encodes to "Pz8_": vary the padding of both JSON objects
        token = mint(note="???" + "?" * (n % 7), headers={"x": "???" + "?" * (n // 7)})
        if all(("-" in part or "_" in part) and len(part) % 4 in (2, 3) for part in token.split(".")):
            return token
    raise AssertionError("no token with that shape")


@pytest.mark.parametrize("segment", [0, 1, 2])
@pytest.mark.parametrize("spell", [padded, standard_alphabet, stray_bits])
async def test_only_the_canonical_unpadded_base64url_spelling_is_accepted(segment: int, spell: Any) -> None:
    """RFC 7515 section 2: one signed token has one accepted spelling, checked before the cache."""
    checker = verifier()
    token = awkward_token()
    await checker.verify_token(token)  # the canonical spelling is accepted, and now cached
    other = respell(token, segment, spell)
    assert other != token
    with pytest.raises(TokenRejected) as rejected:
        await checker.verify_token(other)
    assert rejected.value.reason == "malformed_token"


async def test_rs384_token_is_refused_when_not_allowed() -> None:
    token = mint(alg="RS384")
    assert await reason_for(token) == "bad_algorithm"


async def test_cognito_style_tokens_bind_by_client_id() -> None:
    token = mint(aud=None, client_id="cognito-app")
    assert await reason_for(token) == "no_audience"
    access = await verifier(allowed_client_ids=("cognito-app",)).verify_token(token)
    assert access.client_id == "cognito-app"
    assert (
        await reason_for(mint(aud=None, client_id="other-app"), allowed_client_ids=("cognito-app",)) == "wrong_client"
    )


async def test_entra_style_scp_and_custom_claim_names() -> None:
    access = await verifier().verify_token(mint(scope=None, scp=["oscal.read"], client_id=None, azp="entra-app"))
    assert (access.client_id, access.scopes) == ("entra-app", ["oscal.read"])
    custom = verifier(scope_claim="permissions", client_id_claim="appid")
    access = await custom.verify_token(mint(permissions="a b", appid="custom-app"))
    assert (access.client_id, access.scopes) == ("custom-app", ["a", "b"])


async def test_repeat_verification_is_served_from_the_result_cache() -> None:
    checker = verifier()
    token = mint()
    first = await checker.verify_token(token)
    checker._keys = KeySet([])  # type: ignore[assignment]  # the signer left the key set
    with pytest.raises(TokenRejected):
        await checker.verify_token(token)  # cached result dropped with its key
    assert first.token == token


async def test_public_key_mode_needs_no_network() -> None:
    pem = public_pem(private_key("rs-1"))
    checker = JwtVerifier(config(), JwtSettings(), key_set_from_pem(pem, ("RS256", "ES256")))
    assert (await checker.verify_token(mint())).client_id == "client-1"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OSCAL_AUTH_JWT_ALGORITHMS": "RS256,HS256"}, r"OSCAL_AUTH_JWT_ALGORITHMS: .*HS256 is not accepted"),
        ({"OSCAL_AUTH_JWT_ALGORITHMS": "none"}, r"none is not accepted"),
        ({"OSCAL_AUTH_JWT_JWKS_URI": "https://x/jwks", "OSCAL_AUTH_JWT_PUBLIC_KEY": "/k.pem"}, "not both"),
        ({"OSCAL_AUTH_JWT_AUDIENCE": ""}, r"set\s+OSCAL_AUTH_JWT_AUDIENCE"),
        ({"OSCAL_AUTH_JWT_PUBLIC_KEY": "/no/such/key.pem"}, "neither PEM text nor a readable file"),
        ({"OSCAL_AUTH_JWT_JWKS_CACHE_SECONDS": "0"}, "OSCAL_AUTH_JWT_JWKS_CACHE_SECONDS='0'"),
        ({"OSCAL_AUTH_ISSUER_URL": ""}, "needs OSCAL_AUTH_ISSUER_URL"),
    ],
)
def test_settings_errors_name_what_to_set(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        create_verifier(config(OSCAL_AUTH_VERIFIER="jwt", **env))


@settings(max_examples=150, deadline=None)
@given(
    header=st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit", "jku", "x5u", "jwk", "zip", "b64"]),
                           st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))),
    extra_claims=st.dictionaries(st.sampled_from(["exp", "nbf", "iat", "iss", "aud", "scope", "client_id"]),
                                 st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                                           st.text(max_size=20), st.lists(st.text(max_size=10), max_size=3))),
)  # fmt: skip
def test_fuzzed_signed_tokens_are_accepted_only_when_the_policy_holds(
    header: dict[str, Any], extra_claims: dict[str, Any]
) -> None:
    """Tokens signed with the real key reach the claim checks; acceptance implies every rule held."""
    import anyio

    body = {**claims(), **extra_claims}
    from jose import jws

    token = jws.sign(
        json.dumps(body).encode(), private_key("rs-1"), headers={**header, "kid": "rs-1"}, algorithm="RS256"
    )

    async def run() -> None:
        try:
            access = await verifier().verify_token(token)
        except TokenRejected:
            return
        now = time.time()
        assert header.get("alg", "RS256") == "RS256" and "crit" not in header
        assert body["iss"] == ISSUER
        assert isinstance(body["exp"], int | float) and not isinstance(body["exp"], bool) and now <= body["exp"] + 60
        aud = body.get("aud")
        assert aud == RESOURCE or (isinstance(aud, list) and RESOURCE in aud)
        assert access.resource == RESOURCE

    anyio.run(run)


@pytest.mark.parametrize("separator", ["\u00a0", "\u2003", "\x1f", "\x85", "\t"])
async def test_scopes_split_on_spaces_only(separator: str) -> None:
    access = await verifier().verify_token(mint(scope=f"oscal:read profile{separator}oscal:admin"))
    assert "oscal:admin" not in access.scopes
    assert access.scopes == ["oscal:read", f"profile{separator}oscal:admin"]


async def test_audiences_compare_as_plain_strings_a_trailing_slash_aside() -> None:
    checker = JwtVerifier(config(), JwtSettings(), KeySet.from_jwks(public_keys(), ("RS256", "ES256")))
    assert (await checker.verify_token(mint(aud=RESOURCE + "/"))).client_id == "client-1"
    for spelling in (
        "https://OSCAL.example.com/mcp",
        "https://oscal.example.com:443/mcp",
        "https://oscal.example.com/tenants/acme/%2e%2e/%2E%2E/mcp",
        "https://oscal.example.com/tenants/acme/../../mcp",
    ):  # RFC 7519 section 4.1.3: no normalisation
        with pytest.raises(TokenRejected) as rejected:
            await checker.verify_token(mint(aud=spelling))
        assert rejected.value.reason == "wrong_audience"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OSCAL_AUTH_JWT_JWKS_URI": "idp.example.com/certs"}, "OSCAL_AUTH_JWT_JWKS_URI"),
        ({"OSCAL_AUTH_JWT_JWKS_URI": "file:///etc/passwd"}, "OSCAL_AUTH_JWT_JWKS_URI"),
        ({"OSCAL_AUTH_JWT_JWKS_MIN_REFRESH_SECONDS": "0"}, "OSCAL_AUTH_JWT_JWKS_MIN_REFRESH_SECONDS"),
        ({"OSCAL_AUTH_JWT_ALGORITHMS": "PS256"}, "PS256 is not accepted"),
    ],
)
def test_unsafe_key_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        create_verifier(config(OSCAL_AUTH_VERIFIER="jwt", **env))


def test_a_jwks_uri_with_credentials_is_refused_without_echoing_them() -> None:
    with pytest.raises(ConfigurationError) as error:
        create_verifier(config(OSCAL_AUTH_VERIFIER="jwt", OSCAL_AUTH_JWT_JWKS_URI="https://u:S3cret@idp.example/jwks"))
    assert "S3cret" not in str(error.value)


def test_a_plain_http_issuer_off_loopback_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"OSCAL_AUTH_ISSUER_URL='http://idp.example.com' is plain http"):
        config(OSCAL_AUTH_VERIFIER="jwt", OSCAL_AUTH_ISSUER_URL="http://idp.example.com")


def test_a_plain_http_jwks_uri_off_loopback_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"OSCAL_AUTH_JWT_JWKS_URI='http://idp.example.com/certs' is plain"):
        create_verifier(config(OSCAL_AUTH_VERIFIER="jwt", OSCAL_AUTH_JWT_JWKS_URI="http://idp.example.com/certs"))


def test_plain_http_is_accepted_on_loopback_or_when_allowed() -> None:
    create_verifier(config(OSCAL_AUTH_VERIFIER="jwt", OSCAL_AUTH_ISSUER_URL="http://127.0.0.1:9000"))
    allowed = config(
        OSCAL_AUTH_VERIFIER="jwt", OSCAL_AUTH_ISSUER_URL="http://idp.example.com", OSCAL_AUTH_ALLOW_INSECURE_HTTP="true"
    )
    assert allowed.allow_insecure_http is True
    create_verifier(allowed)
