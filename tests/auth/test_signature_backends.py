"""Every signature this library verifies goes through ``cryptography``, never through the
pure-Python ``ecdsa`` package python-jose can fall back to (CVE-2024-23342, a timing side channel
that dependency scanners flag): the proof an operator can show a scanner (issue 20)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose.backends.cryptography_backend import CryptographyECKey, CryptographyRSAKey

from oscal_mcp_auth.jwks import KeySet, key_set_from_pem
from tests.auth.keys import private_key, public_keys
from tests.e2e.as_fixture import public_pem

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter in which importing ecdsa fails and is recorded: every verification
# must succeed all the same, and nothing may even try to import it.
WITHOUT_ECDSA = r"""
import asyncio, importlib.abc, json, sys, time

attempts = []

class NoEcdsa(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "ecdsa" or name.startswith("ecdsa."):
            attempts.append(name)
            raise ImportError("ecdsa is blocked in this test")
        return None

sys.meta_path.insert(0, NoEcdsa())

from oscal_mcp_auth import AuthConfig
from oscal_mcp_auth.backends.jwt import JwtSettings, JwtVerifier
from oscal_mcp_auth.dpop import DPoPPolicy, ProofTarget, check_proof
from oscal_mcp_auth.jwks import KeySet
from tests.auth.keys import ISSUER, RESOURCE, mint, public_keys
from tests.e2e.dpop_client import DPoPKey

config = AuthConfig.from_mapping({"OSCAL_AUTH_ISSUER_URL": ISSUER, "OSCAL_AUTH_RESOURCE_SERVER_URL": RESOURCE})
settings = JwtSettings(algorithms=("RS256", "ES256"))
verifier = JwtVerifier(config, settings, KeySet.from_jwks(public_keys(), settings.algorithms))
accepted = [
    asyncio.run(verifier.verify_token(mint(kid, alg))).client_id for kid, alg in (("rs-1", "RS256"), ("es-1", "ES256"))
]
for alg in ("ES256", "RS256", "EdDSA"):
    key = DPoPKey.generate(alg)
    policy = DPoPPolicy(algorithms=(alg,))
    check_proof(key.proof("POST", RESOURCE, access_token="t"), ProofTarget("POST", RESOURCE, "t"), policy, time.time())
    accepted.append(alg)
loaded = [name for name in sys.modules if name.startswith("ecdsa")]
print(json.dumps({"accepted": accepted, "attempts": attempts, "ecdsa_loaded": loaded}))
"""


def test_no_verification_imports_or_needs_the_ecdsa_package() -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_ECDSA], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome == {
        "accepted": ["client-1", "client-1", "ES256", "RS256", "EdDSA"],
        "attempts": [],
        "ecdsa_loaded": [],
    }


def test_every_token_key_is_a_cryptography_key() -> None:
    keys = KeySet.from_jwks(public_keys(), ("RS256", "ES256"))
    found = [keys.find("rs-1", "RS256"), keys.find("es-1", "ES256")]
    pem = key_set_from_pem(public_pem(private_key("es-1")), ("ES256",)).find(None, "ES256")
    for signing_key, kind, prepared in ((found[0], CryptographyRSAKey, rsa.RSAPublicKey),
                                        (found[1], CryptographyECKey, ec.EllipticCurvePublicKey),
                                        (pem, CryptographyECKey, ec.EllipticCurvePublicKey)):  # fmt: skip
        assert signing_key is not None
        assert isinstance(signing_key.key, kind)
        assert isinstance(signing_key.key.prepared_key, prepared)
