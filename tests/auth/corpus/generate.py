"""Generated corpus cases: tokens signed with the Authorization Server's real keys (so every check
behind the signature is reached), or forged in the ways attackers forge them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jose import jws

from tests.e2e.as_fixture import generate_rsa_jwk, public_pem
from tests.e2e.dpop_client import DPoPKey

CORPUS_FILE = Path(__file__).with_name("requests.json")


@dataclass(frozen=True)
class Case:
    name: str
    headers: list[tuple[str, str]]
    expect: frozenset[int]
    query: str = ""
    secrets: tuple[str, ...] = field(default=())
    reason: str | None = None


@dataclass(frozen=True)
class SigningContext:
    """What a legitimate token looks like at this deployment, and the AS's private keys."""

    issuer: str
    audience: str
    private_jwks: Mapping[str, Any]

    def key(self, kty: str) -> dict[str, Any]:
        return dict(next(k for k in self.private_jwks["keys"] if k["kty"] == kty))

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        base = {"iss": self.issuer, "aud": self.audience, "sub": "mcp-client", "client_id": "mcp-client",
                "scope": "oscal:read", "iat": now, "exp": now + 300, "jti": f"corpus-{now}"}  # fmt: skip
        base.update(overrides)
        return {k: v for k, v in base.items() if v is not None}

    def sign(self, claims: Mapping[str, Any] | bytes, headers: Mapping[str, Any] | None = None,
             alg: str = "RS256", key: Mapping[str, Any] | None = None) -> str:  # fmt: skip
        signing_key = dict(key) if key is not None else self.key("RSA" if alg.startswith(("RS", "PS")) else "EC")
        payload = claims if isinstance(claims, bytes) else json.dumps(claims).encode()
        merged = {"typ": "at+jwt", "kid": signing_key.get("kid"), **(headers or {})}
        return str(jws.sign(payload, signing_key, headers=merged, algorithm=alg))


def b64(data: Any) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned(header: Mapping[str, Any], claims: Mapping[str, Any], signature: bytes = b"") -> str:
    return f"{b64(dict(header))}.{b64(dict(claims))}.{b64(signature) if signature else ''}"


def hmac_with_public_key(ctx: SigningContext, alg: str) -> str:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    rsa = ctx.key("RSA")
    signing_input = f"{b64({'alg': alg, 'typ': 'at+jwt', 'kid': rsa['kid']})}.{b64(ctx.claims())}"
    secret = public_pem(rsa).encode()
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), digest).digest())}"


def _token_cases(ctx: SigningContext) -> dict[str, Callable[[], str]]:
    attacker = generate_rsa_jwk("attacker")
    real_kid = ctx.key("RSA")["kid"]
    now = int(time.time())
    return {
        "alg none": lambda: unsigned({"alg": "none", "typ": "at+jwt"}, ctx.claims()),
        "alg None": lambda: unsigned({"alg": "None", "typ": "at+jwt"}, ctx.claims()),
        "alg NONE": lambda: unsigned({"alg": "NONE", "typ": "at+jwt"}, ctx.claims()),
        "alg none with signature": lambda: unsigned({"alg": "none"}, ctx.claims(), b"sig"),
        "HS256 with the public key": lambda: hmac_with_public_key(ctx, "HS256"),
        "HS384 with the public key": lambda: hmac_with_public_key(ctx, "HS384"),
        "HS512 with the public key": lambda: hmac_with_public_key(ctx, "HS512"),
        "alg missing": lambda: unsigned({"typ": "at+jwt", "kid": real_kid}, ctx.claims(), b"sig"),
        "kid path traversal": lambda: ctx.sign(ctx.claims(), {"kid": "../../../../etc/passwd"}),
        "kid SQL text": lambda: ctx.sign(ctx.claims(), {"kid": "' OR '1'='1"}),
        "kid huge": lambda: ctx.sign(ctx.claims(), {"kid": "k" * 5000}),
        "jku to attacker": lambda: ctx.sign(
            ctx.claims(), {"jku": "http://127.0.0.1:9/jwks", "kid": "attacker"}, key=attacker
        ),
        "x5u to attacker": lambda: ctx.sign(
            ctx.claims(), {"x5u": "http://127.0.0.1:9/cert", "kid": real_kid}, key=attacker
        ),
        "embedded jwk": lambda: ctx.sign(
            ctx.claims(), {"jwk": {k: attacker[k] for k in ("kty", "n", "e")}, "kid": real_kid}, key=attacker
        ),
        "crit header": lambda: ctx.sign(ctx.claims(), {"crit": ["exp"]}),
        "crit b64 false": lambda: ctx.sign(ctx.claims(), {"crit": ["b64"], "b64": False}),
        "typ JWT not at+jwt": lambda: ctx.sign(ctx.claims(), {"typ": "JWT"}),
        "nested JWT": lambda: ctx.sign(ctx.sign(ctx.claims()).encode(), {"cty": "JWT"}),
        "tampered claims": lambda: _tamper(ctx.sign(ctx.claims())),
        "signature of another key": lambda: ctx.sign(ctx.claims(), {"kid": real_kid}, key=attacker),
        "RS256 header over ES256 key": lambda: ctx.sign(ctx.claims(), {"kid": ctx.key("EC")["kid"]}),
        "exp as string": lambda: ctx.sign(ctx.claims(exp=str(now + 300))),
        "exp as float in the past": lambda: ctx.sign(ctx.claims(exp=now - 3600.5)),
        "exp far in the future": lambda: ctx.sign(ctx.claims(exp=32503680000)),
        "exp negative": lambda: ctx.sign(ctx.claims(exp=-1)),
        "exp missing": lambda: ctx.sign(ctx.claims(exp=None)),
        "exp boolean": lambda: ctx.sign(ctx.claims(exp=True)),
        "exp expired": lambda: ctx.sign(ctx.claims(exp=now - 120, iat=now - 600)),
        "nbf in the future": lambda: ctx.sign(ctx.claims(nbf=now + 3600)),
        "iat in the future": lambda: ctx.sign(ctx.claims(iat=now + 3600)),
        "aud list without this resource": lambda: ctx.sign(ctx.claims(aud=["https://a.example", "https://b.example"])),
        "aud other resource": lambda: ctx.sign(ctx.claims(aud="http://127.0.0.1:1/other")),
        "aud missing": lambda: ctx.sign(ctx.claims(aud=None)),
        "aud as object": lambda: ctx.sign(ctx.claims(aud={"url": ctx.audience})),
        "iss with trailing slash": lambda: ctx.sign(ctx.claims(iss=ctx.issuer + "/")),
        "iss another server": lambda: ctx.sign(ctx.claims(iss="https://evil.example")),
        "iss missing": lambda: ctx.sign(ctx.claims(iss=None)),
        "unicode issuer lookalike": lambda: ctx.sign(ctx.claims(iss=ctx.issuer.replace("127", "\uff11\uff12\uff17"))),
        "huge claim set": lambda: ctx.sign(ctx.claims(exp=now - 10, **{f"c{i}": "x" * 50 for i in range(200)})),
        "scope as object": lambda: ctx.sign(ctx.claims(scope={"oscal:read": True})),
        "missing scope": lambda: ctx.sign(ctx.claims(scope="profile")),
        "payload not an object": lambda: ctx.sign(b"[1, 2, 3]"),
        "payload not JSON": lambda: ctx.sign(b"not json at all"),
        "cnf jkt under Bearer": lambda: ctx.sign(ctx.claims(cnf={"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4"})),
        "cnf x5t#S256 under Bearer": lambda: ctx.sign(ctx.claims(cnf={"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9lt"})),
        "padded signature segment": lambda: _respell(ctx.sign(ctx.claims()), padded=True),
        "standard base64 alphabet": lambda: _respell(ctx.sign(ctx.claims()), padded=False),
        "aud with dot-segments": lambda: ctx.sign(
            ctx.claims(aud=ctx.audience.replace("/mcp", "/tenants/acme/%2e%2e/%2E%2E/mcp"))
        ),
    }


def _respell(token: str, *, padded: bool) -> str:
    """The same signed token, its signature spelt with `=` padding or in the standard alphabet."""
    header, claims, signature = token.split(".")
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    spelt = base64.urlsafe_b64encode(raw).decode() if padded else base64.b64encode(raw).decode().rstrip("=")
    return f"{header}.{claims}.{spelt}"


def _tamper(token: str) -> str:
    header, claims, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(claims + "=="))
    body["scope"] = "oscal:read oscal:admin"
    return f"{header}.{b64(body)}.{signature}"


EXPECTED_STATUS = {"missing scope": 403}
# The reason word the server must log for each generated case: proof that the intended check fired.
REASONS = {
    "alg none": "bad_algorithm",
    "alg None": "bad_algorithm",
    "alg NONE": "bad_algorithm",
    "alg none with signature": "bad_algorithm",
    "HS256 with the public key": "bad_algorithm",
    "HS384 with the public key": "bad_algorithm",
    "HS512 with the public key": "bad_algorithm",
    "alg missing": "bad_algorithm",
    "kid path traversal": "unknown_key",
    "kid SQL text": "unknown_key",
    "kid huge": "unknown_key",
    "jku to attacker": "unknown_key",
    "x5u to attacker": "bad_signature",
    "embedded jwk": "bad_signature",
    "crit header": "unsupported_crit",
    "crit b64 false": "unsupported_crit",
    "typ JWT not at+jwt": "bad_typ",
    "nested JWT": "malformed_token",
    "tampered claims": "bad_signature",
    "signature of another key": "bad_signature",
    "RS256 header over ES256 key": "unknown_key",
    "exp as string": "bad_claim",
    "exp as float in the past": "expired",
    "exp far in the future": "lifetime_too_long",
    "exp negative": "expired",
    "exp missing": "missing_claim",
    "exp boolean": "bad_claim",
    "exp expired": "expired",
    "nbf in the future": "not_yet_valid",
    "iat in the future": "issued_in_future",
    "aud list without this resource": "wrong_audience",
    "aud other resource": "wrong_audience",
    "aud missing": "no_audience",
    "aud as object": "bad_claim",
    "iss with trailing slash": "wrong_issuer",
    "iss another server": "wrong_issuer",
    "iss missing": "wrong_issuer",
    "unicode issuer lookalike": "wrong_issuer",
    "huge claim set": "malformed_token",
    "scope as object": "bad_claim",
    "missing scope": "insufficient_scope",
    "payload not an object": "malformed_token",
    "payload not JSON": "malformed_token",
    "cnf jkt under Bearer": "bound_token",
    "cnf x5t#S256 under Bearer": "bound_token",
    "padded signature segment": "malformed_token",
    "standard base64 alphabet": "malformed_token",
    "aud with dot-segments": "wrong_audience",
}


def _dpop_cases(ctx: SigningContext, token: str) -> dict[str, tuple[str, str]]:
    """Hostile DPoP proofs (issue 20), each with the reason word it must be refused with. The
    token is valid and unbound (accepted under DPoP where DPoP is optional), so a proof that
    passes the parser reaches the replay cache, as a lone-surrogate ``jti`` once did (HTTP 500)."""
    key = DPoPKey.generate("ES256")
    deep = b"[" * 1200 + b"]" * 1200

    def proof(header: Mapping[str, Any] | None = None, **claims: Any) -> str:
        return key.proof("POST", ctx.audience, access_token=token, header=dict(header or {}), claims=claims)

    return {
        "dpop header nested 1200 deep": (f"{b64(deep)}.{b64({})}.AAAA", "dpop_malformed"),
        "dpop claims nested 1200 deep": (f"{b64({'typ': 'dpop+jwt'})}.{b64(deep)}.AAAA", "dpop_malformed"),
        "dpop jwk nested 20 deep": (proof({"jwk": json.loads("[" * 20 + "]" * 20)}), "dpop_malformed"),
        "dpop ath a lone surrogate": (proof(ath="\ud800"), "dpop_malformed"),
        "dpop jti a lone surrogate": (proof(jti="\udfff"), "dpop_malformed"),
        "dpop htu a lone surrogate": (proof(htu=ctx.audience + "\ud800"), "dpop_malformed"),
        "dpop typ a lone surrogate": (proof({"typ": "dpop+jwt\ud800"}), "dpop_malformed"),
        "dpop iat of 400 digits": (proof(iat=10**400), "dpop_iat"),
        "dpop iat NaN": (proof(iat=float("nan")), "dpop_iat"),
    }


def generated_cases(ctx: SigningContext) -> list[Case]:
    cases = []
    for name, make in _token_cases(ctx).items():
        token = make()
        status = EXPECTED_STATUS.get(name, 401)
        headers = [("Authorization", f"Bearer {token}")]
        cases.append(Case(name, headers, frozenset({status}), secrets=(token,), reason=REASONS[name]))
    token = ctx.sign(ctx.claims())
    for name, (proof, reason) in _dpop_cases(ctx, token).items():
        headers = [("Authorization", f"DPoP {token}"), ("DPoP", proof)]
        cases.append(Case(name, headers, frozenset({401}), secrets=(token,), reason=reason))
    return cases


def file_cases() -> list[Case]:
    document = json.loads(CORPUS_FILE.read_text())
    cases = []
    for entry in document["cases"]:
        headers = [(name, _expand(value)) for name, value in entry["headers"]]
        secrets = tuple(entry.get("secrets", ()))  # must not reach the log
        cases.append(Case(entry["name"], headers, frozenset(entry["expect"]), entry.get("query", ""), secrets))
    return cases


def _expand(value: str) -> str:
    if "@@LONG:" in value:
        prefix, _, rest = value.partition("@@LONG:")
        size = int(rest.split("@@")[0])
        return prefix + "A" * size
    return value


def all_cases(ctx: SigningContext) -> list[Case]:
    return file_cases() + generated_cases(ctx)
