"""Introspection replicas sharing a real Redis share results only when every setting that changes what a
result means is the same: a lax replica's accepted token must not reach a strict one."""

from __future__ import annotations

import pytest
import respx

from oscal_mcp_auth import AuthConfig, TokenRejected
from oscal_mcp_auth.backends.introspection import IntrospectionVerifier, load_settings
from tests.auth.introspection_endpoints import ENDPOINT, ISSUER, NOW, RESOURCE
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.anyio, pytest.mark.time_machine(NOW, tick=False)]

TOKEN = "opaque-token-shared-0123456789"
NO_AUDIENCE = {"active": True, "client_id": "mcp-client", "exp": NOW + 300, "iss": ISSUER, "scope": "oscal:read"}


def replica(redis: RedisServer, **settings: str) -> IntrospectionVerifier:
    values = {
        "OSCAL_AUTH_VERIFIER": "introspection",
        "OSCAL_AUTH_ISSUER_URL": ISSUER,
        "OSCAL_AUTH_RESOURCE_SERVER_URL": RESOURCE,
        "OSCAL_AUTH_INTROSPECTION_URL": ENDPOINT,
        "OSCAL_AUTH_INTROSPECTION_CLIENT_ID": "mcp-rs",
        "OSCAL_AUTH_INTROSPECTION_CLIENT_SECRET": "rs-secret",
        "OSCAL_AUTH_CACHE_URL": redis.url,
        "OSCAL_AUTH_CACHE_SECRET": "c" * 32,
    }
    values.update({f"OSCAL_AUTH_INTROSPECTION_{name.upper()}": value for name, value in settings.items()})
    config = AuthConfig.from_mapping(values)
    return IntrospectionVerifier(config, load_settings(config))


@respx.mock
async def test_a_lax_replicas_result_does_not_reach_a_strict_one(redis_server: RedisServer) -> None:
    introspection = respx.post(ENDPOINT).respond(200, json=NO_AUDIENCE)
    lax, lax_twin = replica(redis_server, require_audience="false"), replica(redis_server, require_audience="false")
    strict = replica(redis_server, require_audience="true")
    assert (await lax.verify_token(TOKEN)).client_id == "mcp-client"
    assert (await lax_twin.verify_token(TOKEN)).client_id == "mcp-client"
    assert introspection.call_count == 1  # same settings: the twin took the shared result
    with pytest.raises(TokenRejected) as rejected:
        await strict.verify_token(TOKEN)
    assert rejected.value.reason == "no_audience"
    assert introspection.call_count == 2
    for verifier in (lax, lax_twin, strict):
        await verifier.aclose()


@pytest.mark.parametrize(
    "other",
    [{"client_id": "another-rs"}, {"url": "https://as.example.com/introspect/v2"}],
)
@respx.mock
async def test_replicas_asking_another_endpoint_or_as_another_client_do_not_share(
    redis_server: RedisServer, other: dict[str, str]
) -> None:
    route = respx.post(url__startswith=ENDPOINT).respond(200, json={**NO_AUDIENCE, "aud": RESOURCE})
    first, second = replica(redis_server), replica(redis_server, **other)
    await first.verify_token(TOKEN)
    await second.verify_token(TOKEN)
    assert route.call_count == 2
    for verifier in (first, second):
        await verifier.aclose()
