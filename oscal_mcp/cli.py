"""Command line: flags -> settings -> server. A user mistake exits 2 with one line, no traceback.

Heavy libraries (the MCP SDK, trestle, pydantic) are imported only after the arguments parse, so
``oscal-mcp --help`` and ``--version`` stay fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from importlib.metadata import version
from pathlib import Path

SETTINGS_COMMAND = "settings"

# (flag, environment variable, help); every flag has an environment twin.
_VALUE_FLAGS: tuple[tuple[str, str, str], ...] = (
    ("--transport", "OSCAL_MCP_TRANSPORT", "stdio (default) or streamable-http"),
    ("--host", "OSCAL_MCP_HOST", "address to bind for streamable-http (default 127.0.0.1)"),
    ("--port", "OSCAL_MCP_PORT", "port for streamable-http (default 8000)"),
    ("--path", "OSCAL_MCP_PATH", "URL path of the MCP endpoint (default /mcp)"),
    ("--server-name", "OSCAL_MCP_SERVER_NAME", "name announced to clients (default oscal-mcp)"),
    ("--log-level", "OSCAL_MCP_LOG_LEVEL", "DEBUG, INFO (default), WARNING, ERROR or CRITICAL"),
    ("--log-format", "OSCAL_MCP_LOG_FORMAT", "text (default) or json: one JSON object per line, with audit fields"),
    (
        "--max-request-bytes",
        "OSCAL_MCP_MAX_REQUEST_BYTES",
        "largest accepted HTTP request body (default 32 MiB)",
    ),
    (
        "--max-sessions-per-principal",
        "OSCAL_MCP_MAX_SESSIONS_PER_PRINCIPAL",
        "stateful sessions one authenticated client may hold at once (default 100); more get 429",
    ),
    (
        "--header-timeout-seconds",
        "OSCAL_MCP_HEADER_TIMEOUT_SECONDS",
        "a connection must send a whole request head within this many seconds (default 10)",
    ),
    (
        "--forwarded-allow-ips",
        "OSCAL_MCP_FORWARDED_ALLOW_IPS",
        "comma-separated proxy addresses whose X-Forwarded-For/-Proto are believed "
        "(default 127.0.0.1,::1; empty: none)",
    ),
    (
        "--allowed-hosts",
        "OSCAL_MCP_ALLOWED_HOSTS",
        "comma-separated Host values accepted, e.g. mcp.example.com,mcp.example.com:* "
        "(default: loopback names and the resource URL's host)",
    ),
    (
        "--allowed-origins",
        "OSCAL_MCP_ALLOWED_ORIGINS",
        "comma-separated Origin values accepted (default: loopback pages and the resource URL's origin)",
    ),
    ("--cors-origins", "OSCAL_MCP_CORS_ORIGINS", "comma-separated origins browsers may call from, or * (default off)"),
    ("--metrics-port", "OSCAL_MCP_METRICS_PORT", "serve Prometheus metrics on this port (default off)"),
    ("--metrics-host", "OSCAL_MCP_METRICS_HOST", "address of the metrics listener (default 127.0.0.1)"),
    ("--health-path", "OSCAL_MCP_HEALTH_PATH", "liveness probe path, answered whatever the Host (default /healthz)"),
    ("--ready-path", "OSCAL_MCP_READY_PATH", "readiness probe path, answered whatever the Host (default /readyz)"),
)
_SWITCHES: tuple[tuple[str, str, str], ...] = (
    ("--stateless-http", "OSCAL_MCP_STATELESS_HTTP", "no server-side sessions (for several replicas)"),
    ("--json-response", "OSCAL_MCP_JSON_RESPONSE", "answer with plain JSON instead of event streams"),
    (
        "--allow-unauthenticated",
        "OSCAL_MCP_ALLOW_UNAUTHENTICATED",
        "allow streamable-http on a non-loopback address without authentication",
    ),
)
_AUTH_FLAGS: tuple[tuple[str, str, str], ...] = (
    (
        "--auth-verifier",
        "OSCAL_AUTH_VERIFIER",
        "jwt (default with an issuer), introspection, static or a plugin",
    ),
    (
        "--auth-issuer-url",
        "OSCAL_AUTH_ISSUER_URL",
        "the Authorization Server's issuer URL (jwt: several, comma-separated)",
    ),
    ("--auth-resource-server-url", "OSCAL_AUTH_RESOURCE_SERVER_URL", "this server's public URL incl. path"),
    ("--auth-required-scopes", "OSCAL_AUTH_REQUIRED_SCOPES", "comma-separated scopes every request needs"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oscal-mcp",
        description="MCP server with OSCAL tools. Speaks stdio by default; use "
        "--transport streamable-http for remote clients. Every option has an environment twin "
        "(shown in brackets); a .env file in the working directory is read too. "
        "Precedence: command line > environment > .env > defaults.",
        epilog="Many settings are environment variables only (tool limits, file roots, verifier "
        "settings): 'oscal-mcp settings' lists every one with its default, its current value "
        "(secrets masked) and its meaning.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('oscal-mcp')}")
    parser.add_argument(
        "command",
        nargs="?",
        choices=(SETTINGS_COMMAND,),
        help="settings: list every setting (with the flags given, shows what they would set) instead of serving",
    )
    server = parser.add_argument_group("server")
    for flag, env, text in _VALUE_FLAGS:
        server.add_argument(flag, dest=env, metavar="VALUE", help=f"{text} [{env}]")
    for flag, env, text in _SWITCHES:
        server.add_argument(flag, dest=env, action="store_const", const="true", help=f"{text} [{env}]")
    auth = parser.add_argument_group("authentication (streamable-http only)")
    for flag, env, text in _AUTH_FLAGS:
        auth.add_argument(flag, dest=env, metavar="VALUE", help=f"{text} [{env}]")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cli_values: dict[str, str | None] = vars(args)
    if cli_values.pop("command") == SETTINGS_COMMAND:
        return print_settings(cli_values)

    from oscal_mcp.errors import ConfigError
    from oscal_mcp_auth.errors import ConfigurationError

    try:
        from oscal_mcp.config import load_settings, merged_values

        settings = load_settings(merged_values(cli_values))
        from oscal_mcp.logs import configure_logging

        configure_logging(settings.log_level, settings.log_format)
        from oscal_mcp.launch import run

        run(settings)
    except (ConfigError, ConfigurationError) as exc:  # the server's own settings, or the auth library's
        print(f"oscal-mcp: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def print_settings(cli_values: Mapping[str, str | None]) -> int:
    """``oscal-mcp settings``: every setting, its default, current value and meaning, on stdout."""
    from oscal_mcp.config import PREFIX, merged_values
    from oscal_mcp.settings_catalog import all_settings, render
    from oscal_mcp_auth.sections import read_environment

    dotenv_file = Path(".env")
    sources = {name: ".env" for name in read_environment(PREFIX, environ={}, env_file=dotenv_file)}
    sources |= {name: "environment" for name in read_environment(PREFIX, env_file=None)}
    sources |= {name: "command line" for name, value in cli_values.items() if value is not None}
    settings, notes = all_settings()
    for line in render(settings, notes, merged_values(cli_values, dotenv_path=dotenv_file), sources):
        print(line)
    return 0


def one_line(error: Exception) -> str:
    """The message on one line, whatever a plugin put in it, and without the credentials of any URL
    it quotes (``scheme://user:password@host``, ``?password=...``, ``?client_secret=...``)."""
    from oscal_mcp_auth.logsafe import escaped
    from oscal_mcp_auth.redaction import hide_credentials

    return escaped(hide_credentials(" ".join(str(error).split())), limit=2000)


if __name__ == "__main__":
    sys.exit(main())
