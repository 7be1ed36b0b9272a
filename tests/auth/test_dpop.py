"""DPoP proofs (RFC 9449 section 4.3): a good proof passes, and every way of being wrong is refused
with its own reason word, in the documented order."""

from __future__ import annotations

import json
import time
from functools import cache
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from oscal_mcp_auth.dpop import (
    MAX_PROOF_LENGTH,
    DPoPPolicy,
    InvalidProof,
    ProofTarget,
    check_proof,
    normalize_http_url,
    read_proof_header,
    request_url,
)
from oscal_mcp_auth.errors import ConfigurationError
from tests.e2e.dpop_client import REMOVE, DPoPKey, ath, b64url

URL = "https://mcp.example.com/mcp"
TOKEN = "access-token-1"
POLICY = DPoPPolicy()
EVERY_ALG = DPoPPolicy(algorithms=("ES256", "ES384", "RS256", "PS256", "EdDSA"))


@cache
def key(alg: str = "ES256") -> DPoPKey:
    return DPoPKey.generate(alg)


def target(method: str = "POST", url: str = URL, token: str = TOKEN) -> ProofTarget:
    return ProofTarget(method, url, token)


def refusal(
    proof: str, request: ProofTarget | None = None, policy: DPoPPolicy = POLICY, now: float | None = None
) -> str:
    with pytest.raises(InvalidProof) as refused:
        check_proof(proof, request or target(), policy, time.time() if now is None else now)
    assert refused.value.detail, "every refusal explains itself"
    return refused.value.reason


def good(alg: str = "ES256", **overrides: Any) -> str:
    return key(alg).proof("POST", URL, access_token=TOKEN, **overrides)


@pytest.mark.parametrize("alg", ["ES256", "ES384", "RS256", "PS256", "EdDSA"])
def test_a_good_proof_passes_and_names_its_key(alg: str) -> None:
    checked = check_proof(good(alg), target(), EVERY_ALG, time.time())
    assert checked.thumbprint == key(alg).thumbprint
    assert checked.jti and checked.replay_key != checked.jti


def test_one_dpop_header_is_read_and_none_or_two_are_refused() -> None:
    def scope(*values: bytes) -> dict[str, Any]:
        return {"type": "http", "headers": [(b"dpop", value) for value in values]}

    assert read_proof_header(scope(b"a.b.c")) == "a.b.c"
    for headers in ((), (b"a.b.c", b"d.e.f")):
        with pytest.raises(InvalidProof) as refused:
            read_proof_header(scope(*headers))
        assert refused.value.reason == "dpop_header"


@pytest.mark.parametrize(
    "proof",
    [
        "a.b",
        "a.b.c.d.e",
        "",
        "eyJ9.e30.",  # an empty signature
        b64url(b"{}") + "=." + b64url(b"{}") + ".AAAA",  # padding
        b64url(b"{}") + ".e30+.AAAA",  # the standard alphabet
        b64url(b"{}") + ".e31.AAAA",  # stray bits in the last character: not the canonical spelling
        b64url(b"not json") + ".e30.AAAA",
        b64url(b"[]") + ".e30.AAAA",
        "x" * (MAX_PROOF_LENGTH + 1),
    ],
)
def test_a_proof_that_is_no_compact_jws_is_malformed(proof: str) -> None:
    assert refusal(proof) == "dpop_malformed"


def test_a_proof_with_crit_is_malformed() -> None:
    assert refusal(good(header={"crit": ["exp"]})) == "dpop_malformed"


@pytest.mark.parametrize("typ", ["jwt", "at+jwt", REMOVE, 7])
def test_a_proof_of_another_type_is_refused(typ: object) -> None:
    assert refusal(good(header={"typ": typ})) == "dpop_typ"


def test_typ_may_carry_the_media_type_prefix() -> None:
    assert check_proof(good(header={"typ": "application/dpop+jwt"}), target(), POLICY, time.time())


@pytest.mark.parametrize("alg", ["none", "HS256", "ES384", "PS256", REMOVE, ["ES256"]])
def test_an_algorithm_outside_the_list_is_refused(alg: object) -> None:
    assert refusal(good(header={"alg": alg})) == "dpop_alg"


def test_the_algorithm_list_never_takes_none_hmac_or_nothing() -> None:
    for algorithms in (("none",), ("HS256",), ("ES256", "HS512"), ()):
        with pytest.raises(ConfigurationError):
            DPoPPolicy(algorithms=algorithms)


def _jwk(**changes: Any) -> dict[str, Any]:
    return {name: value for name, value in {**key().public_jwk, **changes}.items() if value is not REMOVE}


@pytest.mark.parametrize(
    "jwk",
    [
        pytest.param(REMOVE, id="missing"),
        pytest.param("a string", id="not-an-object"),
        pytest.param(key().private_jwk, id="private-key"),
        pytest.param({"kty": "oct", "k": "c2VjcmV0"}, id="symmetric"),
        pytest.param(key("RS256").public_jwk, id="rsa-key-for-es256"),
        pytest.param(key("ES384").public_jwk, id="p384-key-for-es256"),
        pytest.param(_jwk(crv="P-384"), id="wrong-curve-name"),
        pytest.param(_jwk(x=REMOVE), id="no-x"),
        pytest.param(_jwk(x=b64url(b"\x01" * 31)), id="short-x"),
        pytest.param(_jwk(x=key().public_jwk["x"] + "="), id="padded-x"),
        pytest.param(_jwk(y=b64url(b"\x01" * 32)), id="point-not-on-curve"),
        pytest.param(_jwk(alg="ES384"), id="jwk-alg-differs"),
        pytest.param(_jwk(use="enc"), id="encryption-key"),
    ],
)
def test_a_jwk_that_is_no_public_key_fitting_alg_is_refused(jwk: object) -> None:
    assert refusal(good(header={"jwk": jwk})) == "dpop_jwk"


def test_a_small_rsa_key_is_refused() -> None:
    small = DPoPKey("RS256", rsa.generate_private_key(public_exponent=65537, key_size=1024))  # noqa: S505 - the point of the test
    assert refusal(small.proof("POST", URL, access_token=TOKEN)) == "dpop_jwk"


def test_a_proof_signed_by_another_key_is_refused() -> None:
    forged = key("ES256").proof("POST", URL, access_token=TOKEN, header={"jwk": DPoPKey.generate().public_jwk})
    assert refusal(forged) == "dpop_signature"


def test_an_edited_proof_is_refused() -> None:
    header, _, signature = good().split(".")
    edited = b64url(json.dumps({"htm": "POST", "htu": URL, "iat": int(time.time()), "jti": "x"}).encode())
    assert refusal(f"{header}.{edited}.{signature}") == "dpop_signature"


def test_checks_run_in_order_a_bad_typ_is_reported_before_a_bad_signature() -> None:
    header, claims, _ = good(header={"typ": "jwt"}).split(".")
    assert refusal(f"{header}.{claims}.{b64url(b'x' * 64)}") == "dpop_typ"


@pytest.mark.parametrize("htm", ["GET", "post", REMOVE])
def test_a_proof_for_another_method_is_refused(htm: object) -> None:
    assert refusal(good(claims={"htm": htm})) == "dpop_htm"


@pytest.mark.parametrize(
    "htu",
    [
        "https://mcp.example.com/other",
        "https://evil.example.com/mcp",
        "http://mcp.example.com/mcp",
        "https://mcp.example.com:8443/mcp",
        "https://user@mcp.example.com/mcp",
        "mcp.example.com/mcp",
        REMOVE,
        42,
    ],
)
def test_a_proof_for_another_url_is_refused(htu: object) -> None:
    assert refusal(good(claims={"htu": htu})) == "dpop_htu"


@pytest.mark.parametrize(
    "htu",
    [
        "HTTPS://MCP.Example.COM/mcp",
        "https://mcp.example.com:443/mcp",
        "https://mcp.example.com/mcp?x=1",
        "https://mcp.example.com/mcp#part",
        "https://mcp.example.com/%6dcp",  # an unreserved character percent-encoded
    ],
)
def test_htu_is_compared_after_rfc3986_normalisation(htu: str) -> None:
    assert check_proof(good(claims={"htu": htu}), target(), POLICY, time.time())


def test_normalisation_keeps_what_differs() -> None:
    assert normalize_http_url("http://[::1]:80") == "http://[::1]/"
    assert normalize_http_url("https://a.example/%2f") == "https://a.example/%2F"
    assert normalize_http_url("https://a.example/A") != normalize_http_url("https://a.example/a")
    assert normalize_http_url("https://a.example:99999/") is None
    assert normalize_http_url("ftp://a.example/") is None


def test_the_request_url_is_the_public_origin_and_the_path_as_received() -> None:
    scope = {"path": "/mcp", "raw_path": b"/m%63p", "query_string": b"a=1"}
    assert request_url("https://mcp.example.com", scope) == "https://mcp.example.com/m%63p"
    assert request_url("https://mcp.example.com", {"path": "/a b"}) == "https://mcp.example.com/a%20b"


@pytest.mark.parametrize(
    ("age", "reason"),
    [(0, None), (-59, None), (359, None), (361, "dpop_iat"), (-61, "dpop_iat")],
)
def test_iat_must_lie_within_max_age_and_leeway(age: int, reason: str | None) -> None:
    now = time.time()
    proof = good(claims={"iat": int(now) - age})
    if reason is None:
        assert check_proof(proof, target(), POLICY, now).iat == int(now) - age
    else:
        assert refusal(proof, now=now) == reason


@pytest.mark.parametrize("iat", ["1700000000", True, REMOVE])
def test_iat_that_is_no_number_is_refused(iat: object) -> None:
    assert refusal(good(claims={"iat": iat})) == "dpop_iat"


@pytest.mark.parametrize("literal", ["1e400", "NaN", "1" * 400])
def test_iat_that_is_no_finite_number_is_refused(literal: str) -> None:
    claims = json.dumps({"htm": "POST", "htu": URL, "jti": "j", "ath": ath(TOKEN), "iat": 0})
    header = json.dumps({"typ": "dpop+jwt", "alg": "ES256", "jwk": key().public_jwk})
    signing_input = f"{b64url(header.encode())}.{b64url(claims.replace('0}', literal + '}').encode())}"
    assert refusal(f"{signing_input}.{b64url(key().signature(signing_input.encode()))}") == "dpop_iat"


@pytest.mark.parametrize("jti", [REMOVE, "", 5, "j" * 257])
def test_jti_must_be_a_bounded_string(jti: object) -> None:
    assert refusal(good(claims={"jti": jti})) == "dpop_jti"


@pytest.mark.parametrize("proof_ath", [REMOVE, ath("another-token"), ath(TOKEN) + "A", 1])
def test_ath_must_be_the_hash_of_the_presented_token(proof_ath: object) -> None:
    assert refusal(good(claims={"ath": proof_ath})) == "dpop_ath"


def test_the_same_proof_under_another_token_is_refused() -> None:
    assert refusal(good(), target(token="stolen-elsewhere")) == "dpop_ath"
