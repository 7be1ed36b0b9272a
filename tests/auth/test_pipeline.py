"""The verification pipeline fails closed and reports every decision to the audit hook."""

from __future__ import annotations

import time

import pytest
from mcp.server.auth.provider import AccessToken

from oscal_mcp_auth import AuthConfig, AuthEvent, DPoPPolicy, PluginLoadError, TokenRejected, hookimpl
from oscal_mcp_auth.hooks import create_plugin_manager, register_plugin
from oscal_mcp_auth.verifier import VerificationPipeline, _configure_plugins, token_id

pytestmark = pytest.mark.anyio
CONFIG = AuthConfig(verifier="fake", leeway_seconds=30)


class FakeBackend:
    def __init__(self, outcome: AccessToken | Exception | None) -> None:
        self.outcome = outcome

    async def verify_token(self, token: str) -> AccessToken | None:
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


class Recorder:
    def __init__(self, veto: str | None = None, veto_raises: bool = False, audit_raises: bool = False) -> None:
        self.events: list[AuthEvent] = []
        self.veto, self.veto_raises, self.audit_raises = veto, veto_raises, audit_raises

    @hookimpl
    def oscal_auth_check_token(self, token: AccessToken) -> str | None:
        if self.veto_raises:
            raise RuntimeError("boom")
        return self.veto

    @hookimpl
    def oscal_auth_audit(self, event: AuthEvent) -> None:
        self.events.append(event)
        if self.audit_raises:
            raise RuntimeError("audit broke")


def access(expires_in: float | None = 300) -> AccessToken:
    expires_at = None if expires_in is None else int(time.time() + expires_in)
    return AccessToken(token="tok", client_id="c1", scopes=["s"], expires_at=expires_at, subject="u1")


def pipeline(backend: FakeBackend, recorder: Recorder, config: AuthConfig = CONFIG) -> VerificationPipeline:
    manager = create_plugin_manager(load_entry_points=False)
    manager.register(recorder)
    return VerificationPipeline(backend, config, manager, name="fake")


async def test_accept_is_audited_with_identity_but_not_the_token() -> None:
    recorder = Recorder()
    assert await pipeline(FakeBackend(access()), recorder).verify_token("tok") is not None
    assert recorder.events == [AuthEvent("accept", "ok", "fake", token_id("tok"), "c1", "u1", ("s",))]


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        (TokenRejected("bad_signature"), "bad_signature"),
        (ValueError("contains tok"), "verifier_error"),
        (None, "rejected"),
        (access(expires_in=-31), "expired"),
    ],
)
async def test_rejections_fail_closed_with_a_reason(outcome: AccessToken | Exception | None, reason: str) -> None:
    recorder = Recorder()
    assert await pipeline(FakeBackend(outcome), recorder).verify_token("tok") is None
    assert [(e.outcome, e.reason) for e in recorder.events] == [("reject", reason)]


async def test_expiry_within_leeway_is_accepted() -> None:
    recorder = Recorder()
    assert await pipeline(FakeBackend(access(expires_in=-10)), recorder).verify_token("tok") is not None


async def test_a_veto_rejects_with_its_reason() -> None:
    recorder = Recorder(veto="tenant_mismatch")
    assert await pipeline(FakeBackend(access()), recorder).verify_token("tok") is None
    assert recorder.events[-1].reason == "tenant_mismatch"


async def test_a_raising_veto_hook_rejects() -> None:
    recorder = Recorder(veto_raises=True)
    assert await pipeline(FakeBackend(access()), recorder).verify_token("tok") is None
    assert recorder.events[-1].reason == "hook_error"


async def test_a_raising_audit_hook_changes_no_decision() -> None:
    recorder = Recorder(audit_raises=True)
    assert await pipeline(FakeBackend(access()), recorder).verify_token("tok") is not None


async def test_unexpected_errors_never_log_their_message(caplog: pytest.LogCaptureFixture) -> None:
    await pipeline(FakeBackend(ValueError("secret-token-value")), Recorder()).verify_token("secret-token-value")
    assert "secret-token-value" not in caplog.text
    assert "ValueError" in caplog.text


class SilentVeto:
    """A second plugin whose falsy-but-not-None result must not silence the first one's veto."""

    @hookimpl
    def oscal_auth_check_token(self) -> str:
        return ""


async def test_a_falsy_hook_result_cannot_silence_another_veto() -> None:
    recorder = Recorder(veto="tenant_mismatch")
    manager = create_plugin_manager(load_entry_points=False)
    manager.register(recorder)
    manager.register(SilentVeto())  # pluggy calls the last registered first
    checker = VerificationPipeline(FakeBackend(access()), CONFIG, manager, name="fake")
    assert await checker.verify_token("tok") is None
    assert recorder.events[-1].reason in ("tenant_mismatch", "hook_bad_result")


def test_a_misspelt_hook_is_refused_at_start_up() -> None:
    class Typo:
        @hookimpl
        def oscal_auth_check_tokens(self) -> None: ...

    with pytest.raises(PluginLoadError, match="hook plugin 'typo' is invalid"):
        register_plugin(create_plugin_manager(load_entry_points=False), Typo(), "typo")


def test_an_async_hook_is_refused_at_start_up() -> None:
    class Async:
        @hookimpl
        async def oscal_auth_check_token(self) -> None: ...

    with pytest.raises(PluginLoadError, match="must be a plain function, not async"):
        register_plugin(create_plugin_manager(load_entry_points=False), Async(), "async-plugin")


def test_configure_hooks_may_omit_the_config_argument() -> None:
    calls: list[str] = []

    class NoArgs:
        @hookimpl
        def oscal_auth_configure(self) -> None:
            calls.append("configured")

    manager = create_plugin_manager(load_entry_points=False)
    register_plugin(manager, NoArgs(), "no-args")
    _configure_plugins(manager, CONFIG)
    assert calls == ["configured"]


async def test_a_bound_token_from_any_backend_is_refused_under_bearer() -> None:
    """The pipeline applies the cnf rule to every backend's result, a plugin's too."""
    bound = access().model_copy(update={"claims": {"cnf": {"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}})
    recorder = Recorder()
    assert await pipeline(FakeBackend(bound), recorder).verify_token("tok") is None
    assert recorder.events[-1].reason == "bound_token"


JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"


async def test_under_dpop_a_token_bound_to_the_proof_key_is_accepted_and_another_refused() -> None:
    bound = access().model_copy(update={"claims": {"cnf": {"jkt": JKT}}})
    recorder = Recorder()
    assert await pipeline(FakeBackend(bound), recorder).verify_bound("tok", JKT) is not None
    assert await pipeline(FakeBackend(bound), recorder).verify_bound("tok", "another-key") is None
    assert recorder.events[-1].reason == "dpop_key_mismatch"


async def test_where_dpop_is_required_an_unbound_token_is_refused_under_either_scheme() -> None:
    recorder = Recorder()
    required = AuthConfig(verifier="fake", dpop=DPoPPolicy(required=True))
    assert await pipeline(FakeBackend(access()), recorder).verify_bound("tok", JKT) is not None
    assert await pipeline(FakeBackend(access()), recorder, required).verify_bound("tok", JKT) is None
    assert await pipeline(FakeBackend(access()), recorder, required).verify_token("tok") is None
    assert [event.reason for event in recorder.events[-2:]] == ["dpop_required", "dpop_required"]


async def test_a_refused_proof_is_logged_and_audited_without_the_token(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    with caplog.at_level("INFO", logger="oscal_mcp_auth"):
        pipeline(FakeBackend(access()), recorder).proof_refused("secret-token-value", "dpop_htu", "htu is not x")
    assert recorder.events[-1].reason == "dpop_htu"
    assert "reason=dpop_htu" in caplog.text and "secret-token-value" not in caplog.text


FORGED = "evil\n2026-01-01 00:00:00,000 INFO oscal_mcp_auth: token accepted client_id=admin\r\x1b[2J"


async def test_a_client_id_with_a_newline_cannot_forge_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    expired = access(expires_in=-300).model_copy(update={"client_id": FORGED + "x" * 10_000})
    with caplog.at_level("INFO", logger="oscal_mcp_auth"):
        await pipeline(FakeBackend(expired), Recorder()).verify_token("tok")
    (record,) = [r for r in caplog.records if "token rejected" in r.getMessage()]
    line = record.getMessage()
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert "evil\\n2026" in line  # escaped, still readable
    assert len(line) < 1000  # length-capped


async def test_a_plugin_rejection_detail_is_escaped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="oscal_mcp_auth"):
        await pipeline(FakeBackend(TokenRejected("bad\nreason", f"client_id={FORGED}")), Recorder()).verify_token("t")
    (record,) = [r for r in caplog.records if "token rejected" in r.getMessage()]
    assert "\n" not in record.getMessage() and "\r" not in record.getMessage()


async def test_a_refused_scope_logs_the_client_id_escaped(caplog: pytest.LogCaptureFixture) -> None:
    checker = pipeline(FakeBackend(access()), Recorder())
    with caplog.at_level("INFO", logger="oscal_mcp_auth"):
        checker.scope_denied(access().model_copy(update={"client_id": FORGED}), ["oscal:write"])
    assert "\n" not in caplog.records[-1].getMessage()
