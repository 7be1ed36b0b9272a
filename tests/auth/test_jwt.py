"""The jwt backend's checks, each with the reason it logs (keys in memory, no network)."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from oscal_mcp_auth import AuthConfig, ConfigurationError, TokenRejected
from oscal_mcp_auth.backends.jwt import JwtSettings, JwtVerifier, create_verifier
from oscal_mcp_auth.issuers import IssuerKeys, Issuers
from oscal_mcp_auth.jwks import KeySet, key_set_from_pem
from tests.auth.keys import ISSUER, RESOURCE, claims, mint, private_key, public_keys, signing_key
from tests.e2e.as_fixture import public_pem

# Wall-clock time stands still at NOW in this module (time-machine): claims are built relative to
# it, so no test depends on when it was collected or on how fast the machine is.
NOW = 1_800_000_000
pytestmark = [pytest.mark.anyio, pytest.mark.time_machine(NOW, tick=False)]
LEEWAY = 60


def config(**env: str) -> AuthConfig:
    values = {
        "OSCAL_AUTH_ISSUER_URL": ISSUER,
        "OSCAL_AUTH_RESOURCE_SERVER_URL": RESOURCE,
        "OSCAL_AUTH_LEEWAY_SECONDS": str(LEEWAY),
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
        ({"exp": NOW - LEEWAY - 1}, "expired"),
        ({"exp": NOW - LEEWAY - 0.001}, "expired"),
        ({"exp": None}, "missing_claim"),
        ({"exp": "9999999999"}, "bad_claim"),
        ({"exp": True}, "bad_claim"),
        ({"exp": -5}, "expired"),
        ({"exp": NOW + 86_400 + LEEWAY + 1}, "lifetime_too_long"),
        ({"nbf": NOW + LEEWAY + 1}, "not_yet_valid"),
        ({"iat": NOW + LEEWAY + 1}, "issued_in_future"),
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


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": NOW - 30.5},  # a float exp, within the leeway
        {"exp": NOW - LEEWAY},  # the last instant the leeway allows
        {"exp": NOW + 86_400 + LEEWAY},  # the longest lifetime allowed
        {"nbf": NOW + LEEWAY, "iat": NOW + LEEWAY},
    ],
)
async def test_times_within_the_leeway_are_accepted(overrides: dict[str, Any]) -> None:
    access = await verifier().verify_token(mint(**overrides))
    assert (access.client_id, access.expires_at) == ("client-1", int(overrides.get("exp", NOW + 300)))


async def test_a_bound_tokens_cnf_is_handed_on_for_the_binding_check() -> None:
    """The pipeline refuses it under Bearer and matches it with a DPoP proof (test_pipeline)."""
    cnf = {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}
    access = await verifier().verify_token(mint(cnf=cnf))
    assert access.claims is not None and access.claims["cnf"] == cnf


async def test_audience_list_containing_this_resource_is_accepted() -> None:
    access = await verifier().verify_token(mint(aud=["https://other.example.com", RESOURCE + "/"]))
    assert (access.client_id, access.resource) == ("client-1", RESOURCE)


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
    """RFC 7515 section 2: one signed token has one accepted spelling; another spelling of a cached
    token misses the cache and is refused."""
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


class CountingKeySet(KeySet):
    """The test key set, counting the key lookups that every full verification makes."""

    lookups = 0

    def find(self, kid: str | None, alg: str) -> Any:
        self.lookups += 1
        return super().find(kid, alg)


async def test_repeat_verification_is_served_from_the_result_cache() -> None:
    keys = CountingKeySet.from_jwks(public_keys(), ("RS256", "ES256"))
    assert isinstance(keys, CountingKeySet)
    checker = JwtVerifier(config(), JwtSettings(), keys)
    token = mint()
    first = await checker.verify_token(token)
    assert keys.lookups == 1
    assert await checker.verify_token(token) == first
    assert keys.lookups == 1  # no second lookup, no second signature check


async def test_a_cached_result_is_dropped_when_its_signer_leaves_the_key_set() -> None:
    checker = verifier()
    token = mint()
    await checker.verify_token(token)
    checker._issuers = Issuers([IssuerKeys(ISSUER, KeySet([]))])  # the signer left the key set
    with pytest.raises(TokenRejected):
        await checker.verify_token(token)


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


NOT_A_NUMBER = st.one_of(st.booleans(), st.text(max_size=5), st.sampled_from([[NOW], math.nan, math.inf]))
OTHER = "https://other.example.com/mcp"
# (valid, invalid) values of each part of a token; the boundaries are at the leeway's edges.
TOKEN_PARTS: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {
    "exp": (
        st.one_of(st.integers(NOW - LEEWAY, NOW + 86_400 + LEEWAY), st.floats(NOW - LEEWAY, NOW + 86_400 + LEEWAY)),
        st.one_of(st.sampled_from([NOW - LEEWAY - 0.5, NOW + 86_400 + LEEWAY + 0.5, None]), NOT_A_NUMBER),
    ),
    "nbf": (
        st.one_of(st.none(), st.integers(NOW - 86_400, NOW + LEEWAY), st.floats(NOW - 86_400, NOW + LEEWAY)),
        st.one_of(st.floats(NOW + LEEWAY + 0.5, NOW + 10**6), st.integers(NOW + LEEWAY + 1), NOT_A_NUMBER),
    ),
    "iat": (
        st.one_of(st.none(), st.integers(NOW - 86_400, NOW + LEEWAY), st.floats(NOW - 86_400, NOW + LEEWAY)),
        st.one_of(st.floats(NOW + LEEWAY + 0.5, NOW + 10**6), st.integers(NOW + LEEWAY + 1), NOT_A_NUMBER),
    ),
    "iss": (st.just(ISSUER), st.sampled_from([None, ISSUER + "/", "https://evil.example.com", 1])),
    "aud": (
        st.sampled_from([RESOURCE, RESOURCE + "/", [OTHER, RESOURCE], [RESOURCE]]),
        st.sampled_from([None, OTHER, [OTHER], [], 42, [RESOURCE, 7]]),
    ),
    "typ": (st.sampled_from(["at+jwt", "application/at+jwt", "AT+JWT"]), st.sampled_from(["JWT", None, 5])),
    "crit": (st.none(), st.just(["exp"])),
}


@st.composite
def token_parts(draw: st.DrawFn) -> dict[str, Any]:
    """Every part valid, or one or two of them broken: the accept branch and each single rule are
    reached often, so a rule that is switched off is caught."""
    broken = draw(st.lists(st.sampled_from(sorted(TOKEN_PARTS)), max_size=2, unique=True))
    parts = {name: draw(TOKEN_PARTS[name][name in broken]) for name in TOKEN_PARTS}
    parts["require_typ"] = "typ" in broken or draw(st.booleans())  # a typ is only wrong when one is required
    return parts


def expected_refusals(header: dict[str, Any], body: dict[str, Any], require_typ: bool) -> set[str]:
    """The policy, stated apart from the code: every reason a token may be refused for (RFC 7515
    section 4.1.11 crit, RFC 9068 section 4 typ, RFC 7519 section 4.1 iss, exp, nbf, iat, aud,
    with the leeway and the maximum lifetime). Empty: the token must be accepted."""
    refusals: set[str] = set()

    def number(name: str) -> float | None:
        value = body.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
        ):
            refusals.add("bad_claim")
            return None
        return value

    if "crit" in header:
        refusals.add("unsupported_crit")
    if require_typ and str(header.get("typ")).lower() not in ("at+jwt", "application/at+jwt"):
        refusals.add("bad_typ")
    iss = body.get("iss")
    if iss is not None and not isinstance(iss, str):  # RFC 7519 section 4.1.1: a StringOrURI
        refusals.add("bad_claim")
    elif iss != ISSUER:
        refusals.add("wrong_issuer")
    if "exp" not in body:
        refusals.add("missing_claim")
    if (exp := number("exp")) is not None:
        if exp + LEEWAY < NOW:
            refusals.add("expired")
        if exp - NOW > 86_400 + LEEWAY:
            refusals.add("lifetime_too_long")
    if (nbf := number("nbf")) is not None and nbf > NOW + LEEWAY:
        refusals.add("not_yet_valid")
    if (iat := number("iat")) is not None and iat > NOW + LEEWAY:
        refusals.add("issued_in_future")
    aud = body.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if aud is None or aud == []:  # an empty array counts as absent (claims.audiences)
        refusals.add("no_audience")
    elif not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        refusals.add("bad_claim")
    elif not {RESOURCE, RESOURCE + "/"} & set(audiences):
        refusals.add("wrong_audience")
    return refusals


@settings(max_examples=200, deadline=None)
@given(parts=token_parts())
def test_signed_tokens_are_accepted_exactly_when_the_policy_holds(parts: dict[str, Any]) -> None:
    """Tokens signed with the real key reach the claim checks: each is accepted if and only if
    every rule holds, and otherwise refused for one of the rules it breaks."""
    import anyio
    from jose import jws

    header = {"kid": "rs-1", "typ": parts["typ"], **({"crit": parts["crit"]} if parts["crit"] is not None else {})}
    body = {"sub": "user-1", "client_id": "client-1", "scope": "oscal:read", "jti": "j"}
    body.update({k: v for k, v in parts.items() if k in ("exp", "nbf", "iat", "iss", "aud") and v is not None})
    token = jws.sign(json.dumps(body).encode(), signing_key("rs-1", "RS256"), headers=header, algorithm="RS256")
    refusals = expected_refusals(header, body, parts["require_typ"])

    async def run() -> None:
        checker = verifier(require_typ=parts["require_typ"])
        if not refusals:
            event("accepted")
            access = await checker.verify_token(token)
            assert (access.client_id, access.resource, access.expires_at) == ("client-1", RESOURCE, int(body["exp"]))
            return
        event("refused")
        with pytest.raises(TokenRejected) as rejected:
            await checker.verify_token(token)
        assert rejected.value.reason in refusals

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
