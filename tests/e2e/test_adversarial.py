"""Hostile and malformed requests against the real server with the jwt backend and a real AS.

Every case must get the status RFC 6750 prescribes (400 or 401; 403 for a valid token lacking
scope), never a 5xx and never a result. Then the logs are scanned for every credential used.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.auth.corpus.generate import Case, SigningContext, all_cases
from tests.e2e.raw_http import raw_post
from tests.e2e.stacks import CLIENT_SECRET, JwtStack, jwt_stack

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def stack() -> Iterator[JwtStack]:
    with jwt_stack({"OSCAL_AUTH_LEEWAY_SECONDS": "30"}) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def cases(stack: JwtStack) -> list[Case]:
    return all_cases(SigningContext(stack.auth.issuer, stack.server.url, stack.auth.keys))


@dataclass(frozen=True)
class Outcome:
    status: int
    body: bytes
    logged: str  # what the server logged while answering this case alone


@pytest.fixture(scope="module")
def corpus_sent(stack: JwtStack, cases: list[Case]) -> dict[str, Outcome]:
    """Every case sent once, each with its own slice of the server log; the tests below read
    these outcomes, so each passes or fails the same alone and in any order."""
    outcomes = {}
    for case in cases:
        logged_before = stack.server.log_position()
        path = stack.server.path + (f"?{case.query}" if case.query else "")
        response = raw_post(stack.server.port, path, case.headers)
        outcomes[case.name] = Outcome(response.status, response.body, stack.server.logs(since=logged_before))
    return outcomes


def test_the_corpus_is_large_and_distinct(cases: list[Case]) -> None:
    assert len(cases) >= 60
    assert len({case.name for case in cases}) == len(cases)


def test_every_case_gets_its_status_and_never_a_result(cases: list[Case], corpus_sent: dict[str, Outcome]) -> None:
    wrong = []
    for case in cases:
        outcome = corpus_sent[case.name]
        if outcome.status not in case.expect or b'"result"' in outcome.body:
            wrong.append(
                f"{case.name}: got {outcome.status}, expected {sorted(case.expect)}; body {outcome.body[:120]!r}"
            )
        if case.reason and f"reason={case.reason} " not in outcome.logged:
            wrong.append(f"{case.name}: the log does not give reason={case.reason}")
    assert not wrong, "\n".join(wrong)


def test_a_valid_token_still_works_after_the_corpus(stack: JwtStack, corpus_sent: dict[str, Outcome]) -> None:
    response = raw_post(stack.server.port, stack.server.path, [("Authorization", f"Bearer {stack.token()}")])
    assert response.status == 200
    assert b'"result"' in response.body


def test_no_credential_of_the_corpus_reaches_the_logs(
    stack: JwtStack, cases: list[Case], corpus_sent: dict[str, Outcome]
) -> None:
    logs = stack.server.logs()
    assert "token rejected" in logs
    leaked = [case.name for case in cases for secret in case.secrets if len(secret) > 24 and secret in logs]
    assert not leaked
    assert CLIENT_SECRET not in logs
    for key in stack.auth.keys["keys"]:
        assert key["d"] not in logs


HEADER_VALUE = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from("\t\u00e9\u4e2d"), max_size=200
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scheme=st.sampled_from(["Bearer ", "bearer ", "BEARER ", "Bearer  ", "", "Basic "]), value=HEADER_VALUE)
def test_fuzzed_authorization_headers_never_succeed_or_fail_the_server(
    stack: JwtStack, scheme: str, value: str
) -> None:
    response = raw_post(stack.server.port, stack.server.path, [("Authorization", scheme + value)])
    assert response.status in (400, 401, 403), response.head
