"""What a refused DPoP proof tells the operator (the detail logged and audited with its reason),
the exact edges of the proof's bounds, and the replay cache shared through Redis."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oscal_mcp_auth import AuthConfig, ConfigurationError
from oscal_mcp_auth.dpop import (
    MAX_JSON_DEPTH,
    MAX_JTI_LENGTH,
    MAX_PROOF_LENGTH,
    DPoPPolicy,
    InvalidProof,
    check_proof,
    read_proof_header,
    unfit_json,
)
from oscal_mcp_auth.dpop_keys import UnfitKey, b64url_encode, proof_key
from oscal_mcp_auth.dpop_nonce import NonceIssuer
from oscal_mcp_auth.replay import replay_cache
from tests.auth.test_dpop import POLICY, TOKEN, URL, good, key, target
from tests.e2e.dpop_client import REMOVE, DPoPKey, b64url
from tests.redis_server import RedisServer

# Wall-clock time stands still at NOW (time-machine): proofs built "now" by the helpers and the checks
# below meet at exactly the intended distance however long after collection a test runs.
NOW = 1_800_000_000
pytestmark = pytest.mark.time_machine(NOW, tick=False)


def detail(proof: str, policy: DPoPPolicy = POLICY, nonces: NonceIssuer | None = None) -> tuple[str, str]:
    with pytest.raises(InvalidProof) as refused:
        check_proof(proof, target(), policy, NOW, nonces)
    return refused.value.reason, refused.value.detail


def unsigned(header: object, claims: object) -> str:
    return ".".join((b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()), "c2ln"))


NOT_SEGMENTS = "the proof is not three unpadded base64url segments (RFC 7515)"


@pytest.mark.parametrize(
    ("proof", "expected"),
    [
        ("a" * MAX_PROOF_LENGTH, ("dpop_malformed", NOT_SEGMENTS)),  # the longest proof is still read
        ("a" * (MAX_PROOF_LENGTH + 1), ("dpop_malformed", f"the proof is longer than {MAX_PROOF_LENGTH} characters")),
        ("bm90IGpzb24.e30.c2ln", ("dpop_malformed", "the proof's header or claims are not JSON")),
        (unsigned([], {}), ("dpop_malformed", "the proof's header or claims are not JSON objects")),
        (unsigned({"crit": ["x"]}, {}), ("dpop_malformed", "the proof has a crit header")),
        (unsigned({"typ": "JWT"}, {}), ("dpop_typ", "typ must be dpop+jwt")),
        (
            unsigned({"typ": "dpop+jwt", "alg": "HS256" * 10}, {}),
            ("dpop_alg", "alg 'HS256HS256HS256HS256' is not one of ES256 RS256"),
        ),
        (
            unsigned({"typ": "dpop+jwt", "alg": "ES256"}, {}),
            ("dpop_jwk", "the jwk header is missing or not a JSON object"),
        ),
    ],
)
def test_a_malformed_proof_is_refused_saying_what_is_wrong(proof: str, expected: tuple[str, str]) -> None:
    assert detail(proof) == expected


def test_each_failing_claim_is_named_in_the_detail() -> None:
    forged = key().proof("POST", URL, access_token=TOKEN, header={"jwk": DPoPKey.generate().public_jwk})
    assert detail(forged)[1] == "the proof's signature does not verify with its jwk"
    assert detail(good(claims={"ath": REMOVE})) == ("dpop_ath", "ath is not the base64url SHA-256 of the access token")
    assert detail(good(claims={"iat": "soon"})) == ("dpop_iat", "iat is missing or not a number")
    assert detail(good(claims={"iat": 10**400})) == ("dpop_iat", "iat is not a finite number")
    assert detail(good(), nonces=NonceIssuer()) == (
        "dpop_nonce",
        "the proof needs a nonce from this server's DPoP-Nonce header",
    )


def test_the_bounds_of_jti_and_iat_are_inclusive() -> None:
    assert check_proof(good(claims={"jti": "j" * MAX_JTI_LENGTH}), target(), POLICY, NOW).jti == "j" * MAX_JTI_LENGTH
    policy = DPoPPolicy(max_age_seconds=300, leeway_seconds=60)
    for iat in (NOW + 60, NOW - 360):  # the leeway into the future, max age plus leeway into the past
        assert check_proof(good(claims={"iat": iat}), target(), policy, NOW).iat == iat


@pytest.mark.parametrize(
    ("jwk", "alg", "message"),
    [
        (None, "ES256", "the jwk header is missing or not a JSON object"),
        ({**key().public_jwk, "d": "x", "p": "y"}, "ES256", "the jwk holds private key members (d, p)"),
        ({**key().public_jwk, "alg": "ES384"}, "ES256", "the jwk's alg differs from the proof's"),
        ({**key().public_jwk, "use": "enc"}, "ES256", "the jwk's use is not sig"),
        ({**key().public_jwk}, "HS256", "alg HS256 is not supported"),
        ({**key("EdDSA").public_jwk, "x": ""}, "EdDSA", "the jwk member x is missing or not base64url"),
        ({**key("EdDSA").public_jwk, "x": 5}, "EdDSA", "the jwk member x is missing or not base64url"),
    ],
)
def test_a_jwk_that_is_no_usable_public_key_is_refused_saying_why(jwk: Any, alg: str, message: str) -> None:
    with pytest.raises(UnfitKey) as refused:
        proof_key(jwk, alg)
    assert str(refused.value) == message


def test_base64url_encoding_drops_only_the_padding() -> None:
    assert b64url_encode(b"\x00\x00\x17") == "AAAX"
    assert b64url_encode(b"\xff") == "_w"


@pytest.mark.anyio
async def test_with_a_cache_url_the_replay_cache_is_shared_by_every_replica(redis_server: RedisServer) -> None:
    config = AuthConfig.from_mapping({"OSCAL_AUTH_CACHE_URL": redis_server.url, "OSCAL_AUTH_CACHE_SECRET": "s" * 32})
    here, there = replay_cache(config), replay_cache(config)
    proof = check_proof(good(), target(), POLICY, NOW)
    await here.remember(proof, 30)
    with pytest.raises(InvalidProof, match="dpop_replay"):
        await there.remember(proof, 30)
    await here.aclose()
    await there.aclose()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"algorithms": ()}, "DPoP needs at least one proof algorithm"),
        (
            {"algorithms": ("ES256", "HS256", "none")},
            "DPoP algorithms: HS256, none is not accepted; use some of: "
            "ES256, ES384, ES512, RS256, RS384, RS512, PS256, PS384, PS512, EdDSA",
        ),
        ({"max_age_seconds": 0}, "DPoP max age must be positive and the leeway not negative"),
        ({"leeway_seconds": -1}, "DPoP max age must be positive and the leeway not negative"),
    ],
)
def test_an_unusable_dpop_policy_is_refused_saying_what_to_change(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        DPoPPolicy(**settings)
    assert str(refused.value) == message


def test_a_policy_without_leeway_is_accepted() -> None:
    assert DPoPPolicy(leeway_seconds=0).leeway_seconds == 0


def test_any_positive_max_age_is_accepted_even_under_a_second() -> None:
    assert DPoPPolicy(max_age_seconds=0.5).max_age_seconds == 0.5
    assert DPoPPolicy(max_age_seconds=1).max_age_seconds == 1


def test_a_request_without_exactly_one_proof_header_says_how_many_it_had() -> None:
    two = {"type": "http", "headers": [(b"dpop", b"a"), (b"dpop", b"b")]}
    with pytest.raises(InvalidProof) as refused:
        read_proof_header(two)
    assert (refused.value.reason, refused.value.detail) == ("dpop_header", "2 DPoP headers; exactly one is needed")


def nested(levels: int) -> object:
    document: object = []
    for _ in range(levels - 1):
        document = [document]
    return document


def test_json_nested_up_to_the_depth_limit_is_fit_one_level_more_is_not() -> None:
    assert unfit_json(nested(MAX_JSON_DEPTH)) is None
    assert unfit_json({"a": nested(MAX_JSON_DEPTH - 1)}) is None
    assert unfit_json(nested(MAX_JSON_DEPTH + 1)) == f"the proof's JSON is nested deeper than {MAX_JSON_DEPTH} levels"


def test_a_lone_surrogate_anywhere_makes_json_unfit_saying_why() -> None:
    for document in ("\ud800", {"jwk": {"x": "a\udfffb"}}, ["ok", {"\udc00": 1}]):
        assert unfit_json(document) == "a string of the proof holds a lone surrogate (RFC 8259 section 8.2)"
    assert unfit_json({"jwk": {"x": "é😀"}}) is None
