"""CORS in a real browser: headless Chromium runs a page from one loopback origin that calls the
server on another, as a browser-based MCP client does.

The page (tests/e2e/browser/cors_probe.html) reports what the browser let its script read; a
response the browser withholds (no ``Access-Control-Allow-Origin``) reaches the script as a failed
fetch. The server is the real one with the jwt verifier and a real Authorization Server.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.chromium import StaticSite, page_findings
from tests.e2e.clients import challenge_params, post_initialize
from tests.e2e.mcp_server import McpServerProcess
from tests.e2e.stacks import CLIENT_ID, JwtStack, jwt_stack

pytestmark = [pytest.mark.e2e]

Findings = dict[str, Any]
FAILED_FETCH = "TypeError: Failed to fetch"


def probe_url(site: StaticSite, endpoint: str, token: str | None = None) -> str:
    fragment = {"endpoint": endpoint, **({"token": token} if token else {})}  # never sent to the site
    return f"{site.origin}/cors_probe.html#{urllib.parse.urlencode(fragment)}"


def metadata_url(server: McpServerProcess) -> str:
    return f"{server.base_url}/.well-known/oauth-protected-resource{server.path}"


@pytest.fixture(scope="module")
def allowed_site() -> Iterator[StaticSite]:
    with StaticSite() as site:
        yield site


@pytest.fixture(scope="module")
def foreign_site() -> Iterator[StaticSite]:
    """Another loopback origin (another port), not in OSCAL_MCP_CORS_ORIGINS."""
    with StaticSite() as site:
        yield site


@pytest.fixture(scope="module")
def stack(allowed_site: StaticSite) -> Iterator[JwtStack]:
    with jwt_stack({"OSCAL_MCP_CORS_ORIGINS": allowed_site.origin}) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def allowed_findings(allowed_site: StaticSite, stack: JwtStack) -> Findings:
    return page_findings(probe_url(allowed_site, stack.server.url, stack.token()))


def test_browser_reads_the_challenge_from_an_allowed_origin(allowed_findings: Findings, stack: JwtStack) -> None:
    anonymous = allowed_findings["anonymous"]
    assert anonymous.get("status") == 401, allowed_findings
    assert anonymous["resource_metadata"] == metadata_url(stack.server)


def test_browser_reads_the_resource_metadata_from_an_allowed_origin(
    allowed_findings: Findings, stack: JwtStack
) -> None:
    metadata = allowed_findings.get("metadata", {})
    assert metadata.get("status") == 200, allowed_findings
    assert metadata["document"]["resource"] == stack.server.url


def test_browser_with_a_token_initializes_and_reads_the_session_id(allowed_findings: Findings) -> None:
    authenticated = allowed_findings["authenticated"]
    assert authenticated.get("status") == 200, allowed_findings
    assert authenticated["session_id"]
    assert authenticated["initialized_status"] == 202
    assert authenticated["call_status"] == 200
    event_data = authenticated["call_body"].split("data: ", 1)[-1]  # an event stream or plain JSON
    result = json.loads(event_data)["result"]
    assert result["structuredContent"]["caller"]["client_id"] == CLIENT_ID


def test_browser_call_from_an_origin_not_in_the_list_fails(
    foreign_site: StaticSite, stack: JwtStack, allowed_findings: Findings
) -> None:
    assert allowed_findings["anonymous"].get("status") == 401  # the same page reads it from the listed origin
    findings = page_findings(probe_url(foreign_site, stack.server.url, stack.token()))
    assert findings["anonymous"] == {"error": FAILED_FETCH}
    assert findings["authenticated"] == {"error": FAILED_FETCH}


def test_without_cors_origins_a_browser_cannot_read_the_challenge(allowed_site: StaticSite, stack: JwtStack) -> None:
    env = {key: value for key, value in stack.server.env.items() if key != "OSCAL_MCP_CORS_ORIGINS"}
    with McpServerProcess(env=env) as server:
        outside_a_browser = post_initialize(server.url)
        assert outside_a_browser.status_code == 401
        assert challenge_params(outside_a_browser)["resource_metadata"] == metadata_url(server)
        findings = page_findings(probe_url(allowed_site, server.url))
    assert findings["anonymous"] == {"error": FAILED_FETCH}
