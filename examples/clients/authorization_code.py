"""Call an oscal-mcp server that requires OAuth, as a user: the authorization code grant with PKCE.

    python3 authorization_code.py http://127.0.0.1:8000/mcp --client-id my-desktop-app

Your browser opens the Authorization Server's sign-in page. After you sign in and consent, it is
sent back to a one-shot listener on 127.0.0.1 (register the app with the redirect URI
http://127.0.0.1/callback: a native app's loopback URI matches any port, RFC 8252 section 7.3),
and the SDK's OAuthClientProvider trades the code and its PKCE verifier (RFC 7636) for a token
for this server (resource=<url>, RFC 8707). Without --client-id, the SDK registers a client
itself (RFC 7591) where the Authorization Server allows that. The URL must be exactly the
server's resource URL (RFC 9728 section 3.3).
"""

import argparse
import asyncio
import threading
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx2
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

SIGN_IN_SECONDS = 300


class MemoryStorage:
    """Tokens and client registration for this run only (a real app keeps them in the OS keychain)."""

    def __init__(self, client_info: OAuthClientInformationFull | None = None) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info = client_info

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class LoopbackListener:
    """Receives the authorization response (``?code=…&state=…&iss=…``) on 127.0.0.1, once."""

    def __init__(self) -> None:
        self.answer: dict[str, str] = {}
        self._arrived = threading.Event()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = dict(parse_qsl(urlsplit(self.path).query))
                if "code" in query or "error" in query:
                    listener.answer = query
                    listener._arrived.set()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                self.wfile.write(b"Signed in; you may close this window.\n")

            def log_message(self, format: str, *args: object) -> None:  # keep the terminal quiet
                pass

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/callback"

    async def open_browser(self, authorization_url: str) -> None:
        print(f"opening the sign-in page: {authorization_url.split('?')[0]}?…")
        await asyncio.to_thread(webbrowser.open, authorization_url)

    async def wait_for_code(self) -> AuthorizationCodeResult:
        arrived = await asyncio.to_thread(self._arrived.wait, SIGN_IN_SECONDS)
        self._server.shutdown()
        if not arrived:
            raise TimeoutError(f"no sign-in within {SIGN_IN_SECONDS} s")
        if "error" in self.answer:
            raise PermissionError(f"sign-in refused: {self.answer['error']} {self.answer.get('error_description', '')}")
        return AuthorizationCodeResult(
            code=self.answer["code"], state=self.answer.get("state"), iss=self.answer.get("iss")
        )


async def main(url: str, client_id: str | None, scope: str | None) -> None:
    listener = LoopbackListener()
    metadata = OAuthClientMetadata(
        client_name="oscal-mcp example",
        redirect_uris=[listener.redirect_uri],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",  # noqa: S106 (a public app: PKCE instead of a secret)
        scope=scope,
    )
    registered = None
    if client_id is not None:
        registered = OAuthClientInformationFull(client_id=client_id, **metadata.model_dump(exclude_none=True))
    storage = MemoryStorage(registered)
    provider = OAuthClientProvider(
        server_url=url,
        client_metadata=metadata,
        storage=storage,
        redirect_handler=listener.open_browser,
        callback_handler=listener.wait_for_code,
    )
    async with (
        httpx2.AsyncClient(auth=provider, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        about = (await client.call_tool("about", {})).structured_content or {}
        user, app, scopes = about["caller"]["subject"], about["caller"]["client_id"], about["caller"]["scopes"]
        print(f"about: the server sees user {user!r} of app {app!r}, scopes {scopes}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="sign in and call an oscal-mcp server")
    parser.add_argument("url", help="the server's resource URL, e.g. http://127.0.0.1:8000/mcp")
    parser.add_argument("--client-id", help="your app's client id at the Authorization Server (default: register)")
    parser.add_argument("--scope", help="space-separated scopes to ask for (default: what the server lists)")
    args = parser.parse_args()
    asyncio.run(main(args.url, args.client_id, args.scope))
