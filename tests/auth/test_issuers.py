"""Several issuers: each has its own discovery and key cache, and a token's exact ``iss`` picks one.

Two fake Authorization Servers (`tests.auth.fake_issuers`) publish the same kids under different keys.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
import respx
from jose.utils import base64url_decode

from oscal_mcp_auth.discovery import fetch_metadata
from oscal_mcp_auth.http import FetchError
from oscal_mcp_auth.issuers import IssuerKeys, Issuers
from oscal_mcp_auth.jwks import JwksCache, KeySet, SigningKey
from tests.auth.fake_issuers import ISSUER_A, ISSUER_B, FakeAuthorizationServer
from tests.e2e.as_fixture import generate_keys, public_jwks

pytestmark = pytest.mark.anyio


def discovered_keys(issuer: str, **options: Any) -> IssuerKeys:
    """An issuer whose keys are found through its metadata, as the jwt verifier builds it."""
    client = httpx.AsyncClient()

    async def resolve() -> str:
        uri = (await fetch_metadata(client, issuer))["jwks_uri"]
        assert isinstance(uri, str)
        return uri

    settings: dict[str, Any] = {"allowed_algorithms": ("RS256", "ES256"), "min_refresh_seconds": 30}
    settings.update(options)
    return IssuerKeys(issuer, JwksCache(client, resolve, issuer=issuer, **settings))


def verifies(key: SigningKey | None, token: str) -> bool:
    assert key is not None
    signing_input, _, signature = token.rpartition(".")
    return bool(key.key.verify(signing_input.encode(), base64url_decode(signature.encode())))


@pytest.fixture
def router() -> Any:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def two(router: respx.MockRouter) -> tuple[FakeAuthorizationServer, FakeAuthorizationServer]:
    return FakeAuthorizationServer(router, ISSUER_A), FakeAuthorizationServer(router, ISSUER_B)


async def test_each_issuer_discovers_and_fetches_its_own_keys_once(
    two: tuple[FakeAuthorizationServer, FakeAuthorizationServer],
) -> None:
    as_a, as_b = two
    issuers = Issuers([discovered_keys(ISSUER_A), discovered_keys(ISSUER_B)])
    a, b = issuers.select(ISSUER_A), issuers.select(ISSUER_B)
    assert a is not None and b is not None
    found = await asyncio.gather(*(member.find("rs-1", "RS256") for member in (a, b) * 20))
    assert (as_a.discovery.call_count, as_a.jwks.call_count) == (1, 1)
    assert (as_b.discovery.call_count, as_b.jwks.call_count) == (1, 1)
    token_a = as_a.access_token()
    assert verifies(found[0], token_a)  # A's rs-1 verifies A's token...
    assert not verifies(found[1], token_a)  # ...B's rs-1, same kid, does not
    await issuers.aclose()


async def test_iss_selects_by_exact_string_match_in_the_given_order(router: respx.MockRouter) -> None:
    issuers = Issuers([discovered_keys(ISSUER_B), discovered_keys(ISSUER_A)])
    assert issuers.names == (ISSUER_B, ISSUER_A)
    assert issuers.select(ISSUER_B) is not None
    for near_miss in (
        ISSUER_B.rstrip("/"),  # a trailing slash makes another issuer (RFC 9068 section 4)
        ISSUER_A + "/",
        ISSUER_A.upper(),
        ISSUER_A.replace("https://", "http://"),
        " " + ISSUER_A,
        "https://evil.example.com/realms/oscal",
    ):
        assert issuers.select(near_miss) is None, near_miss
    for not_a_string in (None, [ISSUER_A], {"iss": ISSUER_A}, 1):
        assert issuers.select(not_a_string) is None
    assert not router.calls  # choosing (or refusing) an issuer never touches the network
    await issuers.aclose()


@pytest.mark.parametrize("outage", [httpx.ConnectError("refused"), httpx.Response(500), httpx.Response(200, text="<")])
async def test_one_issuer_down_leaves_the_other_working(
    router: respx.MockRouter, two: tuple[FakeAuthorizationServer, FakeAuthorizationServer], outage: Any
) -> None:
    as_a, _ = two
    if isinstance(outage, Exception):
        as_a.discovery.mock(side_effect=outage)
    else:
        as_a.jwks.mock(return_value=outage)
    a, b = discovered_keys(ISSUER_A), discovered_keys(ISSUER_B)
    with pytest.raises(FetchError):
        await a.find("rs-1", "RS256")
    assert await b.find("rs-1", "RS256") is not None
    await a.aclose()
    await b.aclose()


async def test_a_hanging_issuer_does_not_delay_another(
    two: tuple[FakeAuthorizationServer, FakeAuthorizationServer],
) -> None:
    as_a, _ = two
    release = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200, json=public_jwks(as_a.keys))

    as_a.jwks.mock(side_effect=hang)
    a, b = discovered_keys(ISSUER_A), discovered_keys(ISSUER_B)
    waiting_for_a = asyncio.create_task(a.find("rs-1", "RS256"))
    await asyncio.sleep(0)
    assert await b.find("rs-1", "RS256") is not None  # answered while A's fetch is still under way
    assert not waiting_for_a.done()
    release.set()
    assert await waiting_for_a is not None
    await a.aclose()
    await b.aclose()


async def test_a_flood_of_unknown_kids_at_one_issuer_never_reaches_the_other(
    two: tuple[FakeAuthorizationServer, FakeAuthorizationServer],
) -> None:
    as_a, as_b = two
    a, b = discovered_keys(ISSUER_A), discovered_keys(ISSUER_B)
    assert await b.find("rs-1", "RS256") is not None
    for n in range(20):
        assert await a.find(f"forged-{n}", "RS256") is None
    assert as_a.jwks.call_count == 1  # the first fetch; the cool-down holds back the rest
    assert as_b.jwks.call_count == 1
    await a.aclose()
    await b.aclose()


async def test_a_kept_result_lasts_only_while_its_issuers_key_is_published(
    two: tuple[FakeAuthorizationServer, FakeAuthorizationServer],
) -> None:
    as_a, _ = two
    clock = [1000.0]
    a = discovered_keys(ISSUER_A, clock=lambda: clock[0], cache_seconds=60, min_refresh_seconds=1)
    b = discovered_keys(ISSUER_B)
    assert not a.still_trusts("rs-1")  # nothing fetched yet
    await a.find("rs-1", "RS256")
    assert a.still_trusts("rs-1") and not a.still_trusts("es-2")
    assert not b.still_trusts("rs-1")  # B's key set is B's own: not fetched, so not trusted
    as_a.jwks.mock(return_value=httpx.Response(200, json=public_jwks(generate_keys(("rs-2", "es-2")))))
    clock[0] += 61
    await a.find("rs-2", "RS256")
    assert not a.still_trusts("rs-1")
    await a.aclose()
    await b.aclose()


async def test_log_lines_name_the_issuer(
    router: respx.MockRouter, caplog: pytest.LogCaptureFixture, two: tuple[FakeAuthorizationServer, Any]
) -> None:
    as_a, _ = two
    as_a.jwks.mock(return_value=httpx.Response(503, json={}))
    a = discovered_keys(ISSUER_A)
    with caplog.at_level(logging.WARNING, logger="oscal_mcp_auth"), pytest.raises(FetchError):
        await a.find("rs-1", "RS256")
    assert "JWKS fetch failed (bad_status: JWKS answered HTTP 503)" in caplog.text
    assert f"tokens are rejected [issuer {ISSUER_A}]" in caplog.text
    await a.aclose()


def test_an_issuer_listed_twice_or_none_at_all_is_refused() -> None:
    with pytest.raises(ValueError, match=rf"^the issuer '{ISSUER_A}' is listed twice$"):
        Issuers([discovered_keys(ISSUER_A), discovered_keys(ISSUER_A)])
    with pytest.raises(ValueError, match=r"^at least one issuer is needed$"):
        Issuers([])


async def test_closing_closes_every_issuer_even_when_one_fails() -> None:
    closed: list[str] = []

    class Keys(JwksCache):
        def __init__(self, name: str, fails: bool) -> None:
            super().__init__(httpx.AsyncClient(), self._never, allowed_algorithms=("RS256",))
            self.name, self.fails = name, fails

        async def _never(self) -> str:
            raise AssertionError("not fetched")

        async def aclose(self) -> None:
            closed.append(self.name)
            if self.fails:
                raise RuntimeError(f"{self.name} failed to close")

    issuers = Issuers([IssuerKeys(ISSUER_A, Keys("a", True)), IssuerKeys(ISSUER_B, Keys("b", False))])
    with pytest.raises(RuntimeError, match="a failed"):
        await issuers.aclose()
    assert closed == ["a", "b"]


async def test_readiness_is_the_reason_of_the_first_issuer_whose_keys_cannot_be_had() -> None:
    async def unresolvable() -> str:
        raise FetchError("discovery_failed", "the AS is down")

    failing = JwksCache(httpx.AsyncClient(), unresolvable, allowed_algorithms=("RS256",))
    fixed = IssuerKeys(ISSUER_A, KeySet([]))  # a PEM key set: always ready
    assert await fixed.ready() is None
    assert await Issuers([fixed]).ready() is None
    assert await Issuers([fixed, IssuerKeys(ISSUER_B, failing)]).ready() == "discovery_failed"
    await failing.aclose()
