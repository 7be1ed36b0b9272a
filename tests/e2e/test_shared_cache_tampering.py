"""Whoever can write to the shared Redis must not be able to grant scopes or plant keys.

Two replicas share a real redis-server, as behind a load balancer. The tests play an attacker with
write access to Redis (a leaked password, a shared instance): they copy, edit and plant entries,
then ask the OTHER replica, which has to treat every such entry as a miss and ask the AS itself.
"""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.auth.corpus.generate import SigningContext
from tests.e2e.as_fixture import generate_rsa_jwk
from tests.e2e.clients import MCP_HEADERS, bearer, post_initialize
from tests.e2e.conftest import IntrospectionAS
from tests.e2e.mcp_server import McpServerProcess
from tests.e2e.stacks import jwt_stack
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.e2e]

SECRET = "a-cache-secret-of-at-least-32-bytes-0001"
ABOUT = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "about", "arguments": {}}}


@pytest.fixture
def replicas(introspection_as: IntrospectionAS, redis_server: RedisServer) -> Iterator[list[McpServerProcess]]:
    env = introspection_as.server_env(
        OSCAL_AUTH_CACHE_URL=redis_server.url,
        OSCAL_AUTH_CACHE_SECRET=SECRET,
        OSCAL_MCP_STATELESS_HTTP="true",
    )
    servers = [McpServerProcess(env=env).start(), McpServerProcess(env=env).start()]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def call_about(server: McpServerProcess, token: str) -> httpx.Response:
    headers = {**MCP_HEADERS, **bearer(token), "mcp-protocol-version": "2025-06-18"}
    return httpx.post(server.url, json=ABOUT, headers=headers, timeout=30)


def granted_scopes(server: McpServerProcess, token: str) -> set[str]:
    response = call_about(server, token)
    assert response.status_code == 200, response.text
    payload = response.text.split("data: ", 1)[-1] if "data: " in response.text else response.text
    return set(json.loads(payload)["result"]["structuredContent"]["caller"]["scopes"])


def redis_key_of(redis: RedisServer, token: str) -> str:
    """The full Redis key under which the replicas cache `token`'s result (found by its hash)."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    keys = [k for k in redis.command("KEYS", f"*{digest}").decode().split("\r\n") if k.startswith("oscal_mcp_auth")]
    assert len(keys) == 1, keys
    return keys[0]


def redis_get(redis: RedisServer, key: str) -> bytes:
    """GET through RESP: the value's bytes (bulk string)."""
    reply = redis.command("GET", key)
    header, _, rest = reply.partition(b"\r\n")
    assert header.startswith(b"$") and header != b"$-1", reply[:40]
    return rest[: int(header[1:])]


def redis_set(redis: RedisServer, key: str, value: bytes) -> None:
    """SET with a 60 s expiry, sent as a RESP array so any byte of the value survives."""
    words = [b"SET", key.encode(), value, b"PX", b"60000"]
    frame = b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words)
    with socket.create_connection(("127.0.0.1", redis.port), timeout=2) as sock:
        sock.sendall(frame)
        assert sock.recv(64).startswith(b"+OK")


def test_a_strong_tokens_entry_copied_over_a_weak_ones_grants_nothing(
    introspection_as: IntrospectionAS, replicas: list[McpServerProcess], redis_server: RedisServer
) -> None:
    strong = introspection_as.token("oscal:read oscal:write")
    weak = introspection_as.token("oscal:read")
    assert granted_scopes(replicas[0], strong) == {"oscal:read", "oscal:write"}
    assert granted_scopes(replicas[0], weak) == {"oscal:read"}
    redis_set(
        redis_server, redis_key_of(redis_server, weak), redis_get(redis_server, redis_key_of(redis_server, strong))
    )
    assert granted_scopes(replicas[1], weak) == {"oscal:read"}


def test_an_edited_entry_grants_nothing(
    introspection_as: IntrospectionAS, replicas: list[McpServerProcess], redis_server: RedisServer
) -> None:
    weak = introspection_as.token("oscal:read")
    assert granted_scopes(replicas[0], weak) == {"oscal:read"}
    key = redis_key_of(redis_server, weak)
    entry = redis_get(redis_server, key)
    assert b'"oscal:read"' in entry
    redis_set(redis_server, key, entry.replace(b'"oscal:read"', b'"oscal:read","oscal:write"'))
    assert granted_scopes(replicas[1], weak) == {"oscal:read"}


def test_a_planted_entry_for_a_made_up_token_is_not_a_grant(
    introspection_as: IntrospectionAS, replicas: list[McpServerProcess], redis_server: RedisServer
) -> None:
    strong = introspection_as.token("oscal:read oscal:write")
    assert call_about(replicas[0], strong).status_code == 200
    real_key = redis_key_of(redis_server, strong)
    made_up = "made-up-token-nobody-issued"
    planted_key = real_key.removesuffix(hashlib.sha256(strong.encode()).hexdigest())
    planted_key += hashlib.sha256(made_up.encode()).hexdigest()
    redis_set(redis_server, planted_key, redis_get(redis_server, real_key))
    before = introspection_as.server.hits("introspection")
    assert post_initialize(replicas[1].url, bearer(made_up)).status_code == 401
    assert introspection_as.server.hits("introspection") - before == 1  # asked the AS, not Redis
    assert "unauthenticated" in replicas[1].logs()


def test_replicas_with_different_secrets_do_not_share(
    introspection_as: IntrospectionAS, replicas: list[McpServerProcess], redis_server: RedisServer
) -> None:
    env = dict(replicas[0].env, OSCAL_AUTH_CACHE_SECRET="another-secret-of-at-least-32-bytes-0002")
    token = introspection_as.token("oscal:read")
    assert call_about(replicas[0], token).status_code == 200
    with McpServerProcess(env=env) as stranger:
        before = introspection_as.server.hits("introspection")
        assert granted_scopes(stranger, token) == {"oscal:read"}
        assert introspection_as.server.hits("introspection") - before == 1


def test_a_replaced_shared_jwks_plants_no_signing_key(redis_server: RedisServer) -> None:
    shared = {"OSCAL_AUTH_CACHE_URL": redis_server.url, "OSCAL_AUTH_CACHE_SECRET": SECRET}
    with jwt_stack(shared) as first:
        second = McpServerProcess(env=dict(first.server.env))
        second.env["OSCAL_AUTH_RESOURCE_SERVER_URL"] = first.server.url  # one public URL for both
        with second:
            assert post_initialize(first.server.url, bearer(first.token())).status_code == 200
            real: dict[str, Any] = next(k for k in first.auth.keys["keys"] if k["kty"] == "RSA")
            attacker = generate_rsa_jwk(real["kid"])
            key = next(k for k in redis_server.command("KEYS", "*").decode().split("\r\n") if ":jwks:" in k)
            document = redis_get(redis_server, key)
            assert real["n"].encode() in document
            redis_set(redis_server, key, document.replace(real["n"].encode(), attacker["n"].encode()))
            context = SigningContext(first.auth.issuer, first.server.url, {"keys": [attacker]})
            forged = context.sign(context.claims(), {"kid": real["kid"]})
            assert post_initialize(second.url, bearer(forged)).status_code == 401
            assert post_initialize(second.url, bearer(first.token())).status_code == 200
