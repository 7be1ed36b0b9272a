"""ECDSA token twins over real HTTP (issue 20 item 3): oidc-provider signs an ES256 access token,
the test spells its twin (``s`` replaced by ``n - s``, valid for anyone holding the token), and a
real server with an installed hook plugin keyed on the token's hash, the way a deny-list of
leaked tokens is, meets both. The twin is the same token: same audit fingerprint, same verdict.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.clients import bearer, post_initialize
from tests.e2e.stacks import JwtStack, jwt_stack
from tests.e2e.test_hook_wrappers import install

pytestmark = [pytest.mark.e2e]

P256_ORDER = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)  # FIPS 186-4 D.1.2.3

DENY_LIST_PLUGIN = """
import hashlib
import json
import os
from pathlib import Path

from oscal_mcp_auth import hookimpl

DENIED = Path(os.environ["TWIN_TEST_DENIED"])
TRAIL = Path(os.environ["TWIN_TEST_TRAIL"])


@hookimpl
def oscal_auth_check_token(token):
    fingerprint = hashlib.sha256(token.token.encode()).hexdigest()[:16]  # the audit events' token_id
    return "token_denied" if DENIED.exists() and fingerprint in DENIED.read_text().split() else None


@hookimpl
def oscal_auth_audit(event):
    with TRAIL.open("a") as trail:
        trail.write(json.dumps({"outcome": event.outcome, "reason": event.reason, "token_id": event.token_id}) + "\\n")
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[JwtStack, Path]]:
    directory = tmp_path_factory.mktemp("twins")
    site = directory / "site"
    site.mkdir()
    install(site, "deny-list", DENY_LIST_PLUGIN)
    env = {"PYTHONPATH": str(site), "TWIN_TEST_DENIED": str(directory / "denied"),
           "TWIN_TEST_TRAIL": str(directory / "trail.jsonl")}  # fmt: skip
    with jwt_stack(env) as deployment:
        yield deployment, directory


def twin(token: str) -> str:
    header, claims, signature = token.split(".")
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    s = int.from_bytes(raw[32:], "big")
    other = raw[:32] + (P256_ORDER - s).to_bytes(32, "big")
    return f"{header}.{claims}.{base64.urlsafe_b64encode(other).rstrip(b'=').decode()}"


def trail(directory: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in (directory / "trail.jsonl").read_text().splitlines()]


def test_an_es256_token_and_its_twin_are_one_token_to_the_audit_trail_and_the_deny_list(
    stack: tuple[JwtStack, Path],
) -> None:
    deployment, directory = stack
    token = deployment.token(deployment.es_resource)
    assert json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==="))["alg"] == "ES256"
    other = twin(token)
    assert other != token
    url = deployment.server.url
    assert post_initialize(url, bearer(token)).status_code == 200
    assert post_initialize(url, bearer(other)).status_code == 200  # a valid spelling of the same token
    first, second = trail(directory)[-2:]
    assert first["token_id"] == second["token_id"], "the twin got a fingerprint of its own"

    (directory / "denied").write_text(first["token_id"] + "\n")  # the operator denies the leaked token
    for spelling in (token, other):
        response = post_initialize(url, bearer(spelling))
        assert response.status_code == 401, "the twin slipped past the deny-list"
    assert [event["reason"] for event in trail(directory)[-2:]] == ["token_denied", "token_denied"]
