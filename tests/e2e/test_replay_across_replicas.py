"""One DPoP replay namespace for every replica of one resource (issue 20 item 2), with real
processes: oidc-provider binding tokens, a real redis-server, and replicas whose settings differ
the ways a rollout makes them differ, yet serve the same resource URL with the same secret:

- the issuers listed in another order (the README's migration advice: "new one first");
- another leeway;
- the secret given as a file instead of inline, the file ending in a space and a newline (as an
  editor or ``echo "$SECRET "`` leaves it), where the settings reader strips an inline value.

A proof used at any of them is refused at every other (``dpop_replay``); each logs the Redis key
prefix of its replay cache, and all log the same one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.as_fixture import AuthorizationServer, Client, Features, Resource
from tests.e2e.clients import post_initialize
from tests.e2e.dpop_client import DPoPKey
from tests.e2e.mcp_server import McpServerProcess
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.e2e]

PUBLIC = "https://replay.example.test/mcp"
CLIENT, SECRET = "mcp-client", "client-secret-1"
CACHE_SECRET = "one-replay-namespace-secret-of-32-bytes+"
SECOND_ISSUER = "http://127.0.0.1:9/second"  # listed, never asked: every token here names the first
VARIANTS = ("issuers in another order", "another leeway", "secret from a file")


@dataclass
class Replicas:
    auth: AuthorizationServer
    redis: RedisServer
    base: McpServerProcess
    variants: dict[str, McpServerProcess]

    def token(self, key: DPoPKey) -> str:
        return self.auth.client_credentials_token(CLIENT, SECRET, PUBLIC, "oscal:read", dpop=key)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    auth = AuthorizationServer(
        clients=[Client(CLIENT, SECRET)], resources=[Resource(PUBLIC, scope="oscal:read")], features=Features(dpop=True)
    ).start()
    redis = RedisServer().start()
    secret_file = tmp_path_factory.mktemp("secret") / "cache-secret"
    secret_file.write_text(CACHE_SECRET + " \n")
    secret_file.chmod(0o600)
    base = {
        "OSCAL_AUTH_ISSUER_URL": f"{auth.issuer},{SECOND_ISSUER}",
        "OSCAL_AUTH_RESOURCE_SERVER_URL": PUBLIC,
        "OSCAL_AUTH_REQUIRED_SCOPES": "oscal:read",
        "OSCAL_AUTH_CACHE_URL": redis.url,
        "OSCAL_AUTH_CACHE_SECRET": CACHE_SECRET,
        "OSCAL_AUTH_LEEWAY_SECONDS": "60",
        "OSCAL_MCP_STATELESS_HTTP": "true",
    }
    inline = {name: value for name, value in base.items() if name != "OSCAL_AUTH_CACHE_SECRET"}
    envs = {
        "base": base,
        "issuers in another order": {**base, "OSCAL_AUTH_ISSUER_URL": f"{SECOND_ISSUER},{auth.issuer}"},
        "another leeway": {**base, "OSCAL_AUTH_LEEWAY_SECONDS": "5"},
        "secret from a file": {**inline, "OSCAL_AUTH_CACHE_SECRET_FILE": str(secret_file)},
    }
    servers = {name: McpServerProcess(env={**env, "OSCAL_MCP_LOG_LEVEL": "INFO"}) for name, env in envs.items()}
    try:
        for server in servers.values():
            server.start()
        yield Replicas(auth, redis, servers["base"], {name: servers[name] for name in VARIANTS})
    finally:
        for server in servers.values():
            server.stop()
        redis.stop()
        auth.stop()


def dpop_headers(token: str, proof: str) -> dict[str, str]:
    return {"Authorization": f"DPoP {token}", "DPoP": proof}


def replay_prefix(server: McpServerProcess) -> str:
    found = re.search(r"shared cache dpop-jti: redis keys (\S+)\*", server.logs())
    assert found, "every replica logs its replay namespace at start-up"
    return found.group(1)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("first", ["base", "variant"])
def test_a_proof_used_at_one_replica_is_refused_at_one_configured_differently(
    replicas: Replicas, variant: str, first: str
) -> None:
    key = DPoPKey.generate()
    token = replicas.token(key)
    used, replayed = replicas.base, replicas.variants[variant]
    if first == "variant":
        used, replayed = replayed, used
    proof = key.proof("POST", PUBLIC, access_token=token)
    assert post_initialize(used.url, dpop_headers(token, proof)).status_code == 200
    before = replayed.log_position()
    response = post_initialize(replayed.url, dpop_headers(token, proof))
    assert response.status_code == 401, f"{variant}: the replay was accepted"
    assert response.json()["error"] == "invalid_dpop_proof"
    assert "reason=dpop_replay " in replayed.logs(since=before)
    fresh = key.proof("POST", PUBLIC, access_token=token)
    assert post_initialize(replayed.url, dpop_headers(token, fresh)).status_code == 200


def test_every_replica_logs_the_same_replay_namespace_and_what_scopes_it(replicas: Replicas) -> None:
    prefixes = {name: replay_prefix(server) for name, server in {"base": replicas.base, **replicas.variants}.items()}
    assert len(set(prefixes.values())) == 1, prefixes
    logs = replicas.base.logs()
    assert "shared by the replicas that agree on OSCAL_AUTH_RESOURCE_SERVER_URL and the cache secret" in logs
    assert "OSCAL_AUTH_DPOP_MAX_AGE_SECONDS + OSCAL_AUTH_LEEWAY_SECONDS = 360 s" in logs


def test_what_a_redis_writer_can_still_do_is_what_the_readme_says(replicas: Replicas) -> None:
    """README, "Deploying several replicas": deleting a dpop-jti entry makes a captured proof
    acceptable once more at a replica that has not seen it; the replica that accepted it still
    refuses it from its own memory."""
    key = DPoPKey.generate()
    token = replicas.token(key)
    seen_it, other = replicas.base, replicas.variants["another leeway"]
    proof = key.proof("POST", PUBLIC, access_token=token)
    assert post_initialize(seen_it.url, dpop_headers(token, proof)).status_code == 200
    assert post_initialize(other.url, dpop_headers(token, proof)).status_code == 401
    prefix = replay_prefix(seen_it)
    keys = [
        name for name in replicas.redis.command("KEYS", prefix + "*").decode().split("\r\n") if name.startswith(prefix)
    ]
    assert keys and all(replicas.redis.integer("DEL", name) == 1 for name in keys)
    assert post_initialize(seen_it.url, dpop_headers(token, proof)).status_code == 401
    assert post_initialize(other.url, dpop_headers(token, proof)).status_code == 401  # it saw it too: memory
    third = replicas.variants["issuers in another order"]
    assert post_initialize(third.url, dpop_headers(token, proof)).status_code == 200  # the documented gap
