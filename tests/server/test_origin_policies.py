"""Origins and hosts against allow-lists, over a space of near misses (hypothesis), for both HTTP guards:
CORS (`oscal_mcp.cors`) and DNS-rebinding protection (`oscal_mcp.rebinding`). Each answer is checked
against the rule written out separately here: an exact match without case, or ``host:*`` with a
numeric port; never a prefix, a suffix or a sub-domain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
from hypothesis import event, given
from hypothesis import strategies as st
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oscal_mcp.cors import EXPOSE_HEADERS, Cors
from oscal_mcp.rebinding import RebindingGuard, RebindingPolicy

HOSTS = ["app.example", "APP.example", "app.example.evil.com", "evil.app.example", "app.exampl", "127.0.0.1", "[::1]"]
PORTS = ["", ":443", ":8443", ":5173", ":x", ":"]
SCHEMES = ["https", "http", "HTTPS"]


def allowed(patterns: tuple[str, ...], value: str) -> bool:
    """The rule, written separately from the code under test."""
    value = value.lower()
    if "*" in patterns or value in patterns:
        return True
    if value.count(":") < 1:
        return False
    head, _, tail = value.rpartition(":")
    return tail.isdigit() and head + ":*" in patterns


def near_misses(entry: str) -> list[str]:
    """Values that share most of an allow-list entry: a sub-domain, a longer name, another port..."""
    scheme, sep, rest = entry.rpartition("://")
    host, colon, port = rest.partition(":")
    again = f"{scheme}{sep}"
    return [
        f"{again}evil.{rest}",
        f"{again}{host}.evil.com{colon}{port}",
        f"{again}{host}x{colon}{port}",
        f"{again}{host[1:]}{colon}{port}",
        f"{again}{host}:8443x",
        f"{again}{host}:-1",
        f"{again}{host}",
        entry.replace(":*", ":12:34"),
        entry.replace("https://", "http://"),
    ]


@st.composite
def origins(draw: st.DrawFn) -> str:
    return f"{draw(st.sampled_from(SCHEMES))}://{draw(st.sampled_from(HOSTS))}{draw(st.sampled_from(PORTS))}"


@st.composite
def origin_lists(draw: st.DrawFn) -> tuple[str, ...]:
    entries = draw(st.lists(origins(), min_size=1, max_size=3))
    wildcard = [entry.rsplit(":", 1)[0] + ":*" if entry.count(":") == 2 else entry + ":*" for entry in entries]
    chosen = [draw(st.sampled_from([entry, star])) for entry, star in zip(entries, wildcard, strict=True)]
    clean = [entry.lower() for entry in chosen if not entry.endswith((":x", ":", ":x:*", "::*"))]
    return tuple(dict.fromkeys(clean)) or ("https://app.example",)


@st.composite
def origin_against_list(draw: st.DrawFn) -> tuple[tuple[str, ...], str]:
    """An allow-list and an origin that is one of its entries (a port put in for ``:*``) about half the
    time, or anything else."""
    patterns = draw(origin_lists())
    if draw(st.booleans()):
        entry = draw(st.sampled_from(patterns))
        origin = entry.replace(":*", draw(st.sampled_from([":8443", ":1", ":65535"])))
        return patterns, draw(st.sampled_from([origin, origin.upper()]))
    if draw(st.booleans()):
        return patterns, draw(st.sampled_from(near_misses(draw(st.sampled_from(patterns)))))
    return patterns, draw(origins())


async def call(
    wrap: Callable[[ASGIApp], ASGIApp], headers: dict[str, str], method: str = "GET"
) -> tuple[int, dict[str, str], bool]:
    """One request through a middleware around an app answering 200: the status, the response's
    headers and whether the request reached the app."""
    reached: list[bool] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(True)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-inner", b"1")]})
        await send({"type": "http.response.body", "body": b"ok"})

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": "/mcp",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    await wrap(inner)(scope, receive, send)
    start = sent[0]
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], response_headers, bool(reached)


def run_cors(origins_allowed: tuple[str, ...], headers: dict[str, str], method: str = "GET") -> Any:
    return anyio.run(call, lambda inner: Cors(inner, origins_allowed), headers, method)


@given(case=origin_against_list())
def test_cors_labels_exactly_the_origins_the_allow_list_names(case: tuple[tuple[str, ...], str]) -> None:
    patterns, origin = case
    status, headers, reached = run_cors(patterns, {"origin": origin})
    assert (status, reached) == (200, True)  # CORS never refuses: the browser does
    if allowed(patterns, origin):
        event("allowed")
        assert headers["access-control-allow-origin"] == origin
        assert headers["access-control-expose-headers"] == EXPOSE_HEADERS
        assert headers["vary"] == "Origin"
    else:
        event("not allowed")
        assert not any(name.startswith("access-control-") for name in headers)


@given(case=origin_against_list())
def test_a_preflight_is_answered_exactly_for_the_allowed_origins(case: tuple[tuple[str, ...], str]) -> None:
    patterns, origin = case
    status, headers, reached = run_cors(
        patterns, {"origin": origin, "access-control-request-method": "POST"}, "OPTIONS"
    )
    if allowed(patterns, origin):
        event("allowed")
        assert (status, reached) == (204, False)
        assert headers["access-control-allow-origin"] == origin
    else:
        event("not allowed")
        assert (status, reached) == (200, True)


@given(origin=origins())
def test_cors_star_labels_every_origin_with_a_star(origin: str) -> None:
    _, headers, _ = run_cors(("*",), {"origin": origin})
    assert headers["access-control-allow-origin"] == "*" and "vary" not in headers


def test_an_origin_that_merely_starts_like_an_allowed_one_is_not_labelled() -> None:
    for near_miss in (
        "https://app.example.evil.com",
        "https://app.example:8443",
        "https://app.examplex",
        "http://app.example",
    ):
        _, headers, _ = run_cors(("https://app.example",), {"origin": near_miss})
        assert "access-control-allow-origin" not in headers, near_miss


@st.composite
def host_against_list(draw: st.DrawFn) -> tuple[tuple[str, ...], str]:
    names = [host.lower() for host in HOSTS]
    patterns = tuple(
        dict.fromkeys(
            draw(st.sampled_from(names)) + draw(st.sampled_from(["", ":*", ":8000", ":443"]))
            for _ in range(draw(st.integers(1, 3)))
        )
    )
    if draw(st.booleans()):
        entry = draw(st.sampled_from(patterns))
        return patterns, entry.replace(":*", draw(st.sampled_from([":8000", ":1"]))).upper()
    if draw(st.booleans()):
        return patterns, draw(st.sampled_from(near_misses(draw(st.sampled_from(patterns)))))
    return patterns, draw(st.sampled_from(HOSTS)) + draw(st.sampled_from(PORTS))


@given(case=host_against_list())
def test_the_rebinding_guard_accepts_exactly_the_listed_hosts(case: tuple[tuple[str, ...], str]) -> None:
    patterns, host = case
    guard = RebindingPolicy(patterns, None)
    status, _, reached = anyio.run(call, lambda inner: RebindingGuard(inner, guard), {"host": host})
    if allowed(patterns, host):
        event("allowed")
        assert (status, reached) == (200, True)
    else:
        event("refused")
        assert (status, reached) == (421, False)


@given(case=origin_against_list())
def test_the_rebinding_guard_accepts_exactly_the_listed_origins(case: tuple[tuple[str, ...], str]) -> None:
    patterns, origin = case
    guard = RebindingPolicy(("oscal.example",), patterns)
    status, _, reached = anyio.run(
        call, lambda inner: RebindingGuard(inner, guard), {"host": "oscal.example", "origin": origin}
    )
    if allowed(patterns, origin):
        event("allowed")
        assert (status, reached) == (200, True)
    else:
        event("refused")
        assert (status, reached) == (403, False)


def test_without_an_origin_list_every_origin_passes_but_the_host_is_still_checked() -> None:
    guard = RebindingPolicy(("oscal.example",), None)
    ok = anyio.run(call, lambda inner: RebindingGuard(inner, guard), {"host": "oscal.example", "origin": "https://x.y"})
    bad = anyio.run(
        call, lambda inner: RebindingGuard(inner, guard), {"host": "rebind.example", "origin": "https://x.y"}
    )
    assert (ok[0], bad[0]) == (200, 421)
