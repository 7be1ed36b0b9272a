"""A property over the settings readers: whatever URL-shaped values the variables of
dotenv.example get, with a secret wherever a URL can carry one (userinfo, a query parameter named
like a password, secret, token or key), reading them either succeeds or raises the one-line
configuration error, and that error never holds the secret."""

from __future__ import annotations

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oscal_mcp.cli import one_line
from oscal_mcp.config import load_settings
from oscal_mcp.errors import ConfigError
from oscal_mcp_auth import load_verifier
from oscal_mcp_auth.errors import ConfigurationError
from tests.server.test_settings_fuzz import dotenv_variables

SECRET = "Zx9SECRETqQ7"  # appears in no message, setting name or default
BASE = {"OSCAL_MCP_TRANSPORT": "streamable-http", "OSCAL_AUTH_ISSUER_URL": "https://idp.example.com"}
CACHE = {"OSCAL_AUTH_CACHE_SECRET": "property-cache-secret-of-at-least-32-bytes"}

schemes = st.sampled_from(["http", "https", "redis", "rediss", "unix", "ftp", "HTTPS", ""])
hosts = st.sampled_from(["idp.example.com", "127.0.0.1", "[::1]", "h:99999", "", "a.example.com,b.example.com"])
paths = st.sampled_from(["", "/", "/0", "/realms/x", "/mcp#", "/a b"])
names = st.sampled_from(["password", "client_secret", "token", "api_key", "access_token", "Password", "sslPassword"])


@st.composite
def secret_urls(draw: st.DrawFn) -> str:
    scheme, host, path = draw(schemes), draw(hosts), draw(paths)
    userinfo = draw(st.sampled_from(["", f"user:{SECRET}@", f":{SECRET}@"]))
    query = draw(st.sampled_from(["", "?db=0&", "?", ";"])) or "?"
    separator = "" if query.endswith(("?", "&", ";")) else "&"
    tail = draw(st.sampled_from(["", "&tenant=a", "#frag", "&x"]))
    return f"{scheme}://{userinfo}{host}{path}{query}{separator}{draw(names)}={SECRET}{tail}"


@given(
    assignments=st.dictionaries(st.sampled_from(dotenv_variables()), secret_urls(), min_size=1, max_size=3),
    with_cache_secret=st.booleans(),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_settings_readers_never_raise_anything_else_nor_echo_a_url_secret(
    assignments: dict[str, str], with_cache_secret: bool
) -> None:
    values = {**BASE, **(CACHE if with_cache_secret else {}), **assignments}
    try:
        configured = load_settings(values)
        if configured.auth_enabled:
            anyio.run(load_verifier(configured.auth).aclose)
    except (ConfigError, ConfigurationError) as error:
        assert SECRET not in str(error), str(error)
        assert SECRET not in one_line(error)
        assert "\n" not in str(error)
