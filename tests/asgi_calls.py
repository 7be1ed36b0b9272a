"""Calling an ASGI app straight through its interface, without a server or an HTTP client."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Scope


async def sent_messages(app: ASGIApp, scope: Scope) -> list[Message]:
    """The messages `app` sends answering one request with an empty body."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent
