"""The shared claim rules (oscal_mcp_auth.claims): each rule, its reason word, and the parsers."""

from __future__ import annotations

import pytest

from oscal_mcp_auth import claims as rules

NOW = 1_700_000_000.0
RESOURCE = "https://oscal.example.com/mcp"


@pytest.mark.parametrize(
    ("claims", "leeway", "reason"),
    [
        ({"exp": NOW - 61}, 60, "expired"),
        ({"exp": NOW - 59}, 60, None),
        ({"nbf": NOW + 61}, 60, "not_yet_valid"),
        ({"nbf": NOW + 59}, 60, None),
        ({"iat": NOW + 61}, 60, "issued_in_future"),
        ({"iat": NOW + 59}, 60, None),
        ({}, 0, None),
    ],
)
def test_times_hold_with_the_leeway(claims: dict[str, float], leeway: int, reason: str | None) -> None:
    assert rules.check_times(claims, NOW, leeway) == reason


def test_exp_can_be_required_and_lifetime_bounded() -> None:
    assert rules.check_times({}, NOW, 0, exp_required=True) == "missing_claim"
    assert rules.check_times({"exp": NOW + 3600}, NOW, 0, max_lifetime=600) == "lifetime_too_long"
    assert rules.check_times({"exp": NOW + 3600}, NOW, 0, max_lifetime=0) is None


@pytest.mark.parametrize("value", ["tomorrow", True, [1], float("inf"), float("nan"), 10**400])
def test_a_numeric_claim_of_the_wrong_kind_is_malformed(value: object) -> None:
    with pytest.raises(rules.MalformedClaim, match="exp is not"):
        rules.numeric({"exp": value}, "exp")


def test_issuer_is_compared_exactly() -> None:
    issuer = "https://as.example.com"
    assert rules.check_issuer(issuer, issuer, required=True) is None
    assert rules.check_issuer(issuer + "/", issuer, required=True) == "wrong_issuer"
    assert rules.check_issuer(None, issuer, required=True) == "wrong_issuer"
    assert rules.check_issuer(None, issuer, required=False) is None


@pytest.mark.parametrize(
    ("aud", "reason"),
    [
        (RESOURCE, None),
        (RESOURCE + "/", None),  # a trailing slash aside
        ([RESOURCE, "other"], None),
        ("https://oscal.example.com/tenants/acme/%2e%2e/%2E%2E/mcp", "wrong_audience"),
        ("https://oscal.example.com/tenants/acme/../../mcp", "wrong_audience"),
        ("https://OSCAL.example.com/mcp", "wrong_audience"),
        ("https://oscal.example.com:443/mcp", "wrong_audience"),
        ("https://oscal.example.com/mcp/admin", "wrong_audience"),
        (None, "no_audience"),
        ([], "no_audience"),
    ],
)
def test_audience_is_a_plain_string_comparison(aud: object, reason: str | None) -> None:
    accepted = rules.accepted_audiences([RESOURCE])
    assert rules.check_audience(rules.audiences({"aud": aud}), accepted, required=True) == reason


def test_an_absent_audience_may_be_allowed() -> None:
    assert rules.check_audience(None, rules.accepted_audiences([RESOURCE]), required=False) is None


@pytest.mark.parametrize("aud", [5, [RESOURCE, 5], {"a": 1}])
def test_a_malformed_audience_is_malformed(aud: object) -> None:
    with pytest.raises(rules.MalformedClaim, match="aud"):
        rules.audiences({"aud": aud})


@pytest.mark.parametrize(
    ("claims", "scopes"),
    [
        ({"scope": "a b  a"}, ["a", "b"]),
        ({"scp": ["a", "", "b", "a"]}, ["a", "b"]),
        ({"scope": "a", "scp": ["b"]}, ["a"]),  # the first present claim wins
        ({"scope": "a\u00a0b"}, ["a\u00a0b"]),  # RFC 6749 section 3.3: split on %x20 only
        ({}, []),
    ],
)
def test_scopes_from_a_string_or_a_list(claims: dict[str, object], scopes: list[str]) -> None:
    assert rules.scopes(claims) == scopes


def test_scopes_of_the_wrong_kind_are_malformed() -> None:
    with pytest.raises(rules.MalformedClaim, match="scp"):
        rules.scopes({"scp": ["a", 1]})


def test_client_id_is_the_first_non_empty_string() -> None:
    assert rules.client_id({"client_id": "", "azp": "web", "cid": "okta"}) == "web"
    assert rules.client_id({"client_id": 5}) is None


@pytest.mark.parametrize(
    "cnf",
    [
        {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"},
        {"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"},
        {"kid": "anything else"},
        {},
        None,
    ],
)
def test_a_bound_token_is_refused_under_bearer(cnf: object) -> None:
    assert rules.check_binding({"cnf": cnf}) == "bound_token"
    assert rules.check_binding({"sub": "x"}) is None


def test_under_dpop_the_token_must_be_bound_to_the_proof_key() -> None:
    thumbprint = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
    assert rules.check_binding({"cnf": {"jkt": thumbprint}}, dpop_jkt=thumbprint) is None
    assert rules.check_binding({"cnf": {"jkt": "other"}}, dpop_jkt=thumbprint) == "dpop_key_mismatch"
    assert rules.check_binding({"cnf": {"x5t#S256": "abc"}}, dpop_jkt=thumbprint) == "dpop_key_mismatch"


def test_a_token_bound_to_nothing_passes_unless_dpop_is_required() -> None:
    thumbprint = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
    assert rules.check_binding({}, dpop_jkt=thumbprint) is None
    assert rules.check_binding({}, dpop_jkt=thumbprint, dpop_required=True) == "dpop_required"
    assert rules.check_binding({}, dpop_required=True) == "dpop_required"
    assert rules.check_binding({"cnf": {"jkt": thumbprint}}, dpop_jkt=thumbprint, dpop_required=True) is None


@pytest.mark.parametrize(
    ("claims", "leeway", "reason"),
    [
        ({"exp": NOW - 60}, 60, None),  # RFC 7519 section 4.1.4: "on or after" exp plus leeway
        ({"nbf": NOW + 60}, 60, None),
        ({"iat": NOW + 60}, 60, None),
        ({"exp": NOW + 10**6}, 0, None),  # no lifetime bound unless one is configured
    ],
)
def test_the_leeway_boundary_itself_is_accepted(claims: dict[str, float], leeway: int, reason: str | None) -> None:
    assert rules.check_times(claims, NOW, leeway) == reason


def test_the_lifetime_bound_allows_the_leeway() -> None:
    assert rules.check_times({"exp": NOW + 650}, NOW, 60, max_lifetime=600) is None
    assert rules.check_times({"exp": NOW + 660}, NOW, 60, max_lifetime=600) is None
    assert rules.check_times({"exp": NOW + 661}, NOW, 60, max_lifetime=600) == "lifetime_too_long"


def test_a_lifetime_bound_does_not_make_exp_required() -> None:
    assert rules.check_times({}, NOW, 0, max_lifetime=600) is None


def test_an_expired_token_is_reported_before_its_other_time_claims() -> None:
    claims = {"exp": NOW - 100, "nbf": NOW + 100, "iat": NOW + 100}
    assert rules.check_times(claims, NOW, 0) == "expired"
    assert rules.check_times({"nbf": NOW + 100, "iat": NOW + 100}, NOW, 0) == "not_yet_valid"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("tomorrow", "exp is not a number"),
        (10**400, "exp is not a finite number"),
        (float("nan"), "exp is not a finite number"),
    ],
)
def test_a_malformed_claim_names_the_claim_and_the_type_it_needs(value: object, message: str) -> None:
    with pytest.raises(rules.MalformedClaim, match=f"^{message}$") as refused:
        rules.numeric({"exp": value}, "exp")
    assert refused.value.claim == "exp"


def test_a_numeric_claim_may_be_an_int_or_a_float_or_absent() -> None:
    assert rules.numeric({"exp": 5}, "exp") == 5.0
    assert rules.numeric({"exp": 5.5}, "exp") == 5.5
    assert rules.numeric({}, "exp") is None


def test_a_string_claim_is_a_string_or_absent() -> None:
    assert rules.string({"sub": "alice"}, "sub") == "alice"
    assert rules.string({}, "sub") is None
    with pytest.raises(rules.MalformedClaim, match="sub is not a string") as refused:
        rules.string({"sub": 5}, "sub")
    assert refused.value.claim == "sub"


def test_no_issuer_configured_accepts_any_issuer() -> None:
    assert rules.check_issuer("https://anyone.example", None, required=True) is None
    assert rules.check_issuer(None, None, required=True) is None


def test_a_list_of_audiences_is_kept_whole() -> None:
    assert rules.audiences({"aud": ["a", "b"]}) == ["a", "b"]
    assert rules.audiences({"aud": "a"}) == ["a"]


def test_malformed_audience_and_scopes_name_the_expected_type() -> None:
    with pytest.raises(rules.MalformedClaim, match="aud is not a string or a list of strings"):
        rules.audiences({"aud": 5})
    with pytest.raises(rules.MalformedClaim, match="scope is not a string or a list of strings") as refused:
        rules.scopes({"scope": 5})
    assert refused.value.claim == "scope"


def test_scopes_can_be_read_from_other_claim_names() -> None:
    assert rules.scopes({"roles": ["r"], "scope": "s"}, names=("roles",)) == ["r"]
    assert rules.scopes({"scp": "a b"}) == ["a", "b"]


@pytest.mark.parametrize(
    ("claims", "client"),
    [({"client_id": "c"}, "c"), ({"azp": "a"}, "a"), ({"cid": "o"}, "o"), ({"client_id": "c", "azp": "a"}, "c")],
)
def test_client_id_is_read_from_client_id_azp_or_cid(claims: dict[str, object], client: str) -> None:
    assert rules.client_id(claims) == client


def test_client_id_can_be_read_from_other_claim_names() -> None:
    assert rules.client_id({"appid": "x", "client_id": "c"}, names=("appid",)) == "x"


def test_a_confirmation_that_is_not_an_object_does_not_bind_to_the_proof_key() -> None:
    thumbprint = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
    assert rules.check_binding({"cnf": thumbprint}, dpop_jkt=thumbprint) == "dpop_key_mismatch"
    assert rules.check_binding({"cnf": {"jkt": 5}}, dpop_jkt=thumbprint) == "dpop_key_mismatch"
