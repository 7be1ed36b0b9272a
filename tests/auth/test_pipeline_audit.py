"""Exactly what the verification pipeline logs and audits for each decision: the token's 16-digit
fingerprint (never the token), the reason, the client, and what a raising hook turns into."""

from __future__ import annotations

import pytest
from mcp.server.auth.provider import AccessToken

from oscal_mcp_auth import AuthConfig, AuthEvent, TokenRejected, hookimpl
from oscal_mcp_auth.cache import cache_key
from oscal_mcp_auth.hooks import create_plugin_manager
from oscal_mcp_auth.verifier import VerificationPipeline
from tests.auth.test_pipeline import CONFIG, FakeBackend, Recorder, access, pipeline

pytestmark = pytest.mark.anyio
TOKEN_ID = cache_key("tok")[:16]


class ConfigSeer:
    """A veto hook that records what it is given."""

    def __init__(self) -> None:
        self.seen: list[tuple[AccessToken, AuthConfig]] = []

    @hookimpl
    def oscal_auth_check_token(self, token: AccessToken, config: AuthConfig) -> str | None:
        self.seen.append((token, config))
        return None


async def test_a_refused_scope_is_logged_and_audited_with_the_caller(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    with caplog.at_level("INFO", logger="oscal_mcp_auth"):
        pipeline(FakeBackend(access()), recorder).scope_denied(access(), ["oscal:write", "oscal:admin"])
    assert caplog.messages == [
        "request refused: reason=insufficient_scope verifier=fake client_id='c1' missing='oscal:write oscal:admin'"
    ]
    assert recorder.events == [AuthEvent("reject", "insufficient_scope", "fake", TOKEN_ID, "c1", "u1", ("s",))]


async def test_a_rejection_is_logged_and_audited_by_the_tokens_fingerprint(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    with caplog.at_level("INFO", logger="oscal_mcp_auth"):
        assert await pipeline(FakeBackend(access(expires_in=-300)), recorder).verify_token("tok") is None
    assert caplog.messages == [f"token rejected: reason=expired verifier=fake token_id={TOKEN_ID} client_id='c1'"]
    assert recorder.events == [AuthEvent("reject", "expired", "fake", TOKEN_ID)]


async def test_a_refused_proof_is_audited_by_its_tokens_fingerprint(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    with caplog.at_level("INFO", logger="oscal_mcp_auth"):
        pipeline(FakeBackend(access()), recorder).proof_refused("tok", "dpop_htu", "htu is not x")
    assert caplog.messages == [f"token rejected: reason=dpop_htu verifier=fake token_id={TOKEN_ID} htu is not x"]
    assert recorder.events == [AuthEvent("reject", "dpop_htu", "fake", TOKEN_ID)]


async def test_a_long_reason_from_a_plugin_is_cut_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="oscal_mcp_auth"):
        await pipeline(FakeBackend(TokenRejected("r" * 100)), Recorder()).verify_token("tok")
    assert caplog.messages == [f"token rejected: reason={'r' * 61}... verifier=fake token_id={TOKEN_ID}"]


async def test_a_veto_hook_gets_the_token_and_the_settings() -> None:
    seer = ConfigSeer()
    manager = create_plugin_manager(load_entry_points=False)
    manager.register(seer)
    assert await VerificationPipeline(FakeBackend(access()), CONFIG, manager, name="fake").verify_token("tok")
    [(token, config)] = seer.seen
    assert (token.client_id, config) == ("c1", CONFIG)


async def test_a_veto_names_the_client_and_a_raising_hook_its_error_type(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="oscal_mcp_auth"):
        await pipeline(FakeBackend(access()), Recorder(veto="tenant_mismatch")).verify_token("tok")
        await pipeline(FakeBackend(access()), Recorder(veto_raises=True)).verify_token("tok")
    assert caplog.messages == [
        f"token rejected: reason=tenant_mismatch verifier=fake token_id={TOKEN_ID} vetoed by a hook; client_id='c1'",
        "hook oscal_auth_check_token raised RuntimeError; rejecting the token",
        f"token rejected: reason=hook_error verifier=fake token_id={TOKEN_ID} RuntimeError",
    ]


async def test_a_raising_audit_hook_is_logged_by_its_error_type(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="oscal_mcp_auth"):
        await pipeline(FakeBackend(access()), Recorder(audit_raises=True)).verify_token("tok")
    assert caplog.messages == ["hook oscal_auth_audit raised RuntimeError; ignored"]


async def test_a_broader_scope_grants_the_narrower_ones_it_implies() -> None:
    config = AuthConfig.from_mapping({"OSCAL_AUTH_SCOPE_IMPLIES": "s>oscal:read"})
    accepted = await pipeline(FakeBackend(access()), Recorder(), config).verify_token("tok")
    assert accepted is not None and set(accepted.scopes) == {"s", "oscal:read"}


async def test_a_backend_error_is_logged_by_its_type_and_no_identity_is_a_rejection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("INFO", logger="oscal_mcp_auth"):
        await pipeline(FakeBackend(KeyError("tok")), Recorder()).verify_token("tok")
        await pipeline(FakeBackend(None), Recorder()).verify_token("tok")
    assert caplog.messages == [
        "verifier fake raised KeyError; rejecting the token",
        f"token rejected: reason=verifier_error verifier=fake token_id={TOKEN_ID} KeyError",
        f"token rejected: reason=rejected verifier=fake token_id={TOKEN_ID} the verifier returned no identity",
    ]


async def test_closing_the_pipeline_closes_its_backend() -> None:
    class ClosingBackend(FakeBackend):
        closed = False

        async def aclose(self) -> None:
            self.closed = True

    backend = ClosingBackend(access())
    await pipeline(backend, Recorder()).aclose()
    assert backend.closed
    await pipeline(FakeBackend(access()), Recorder()).aclose()  # a backend without aclose is fine
