"""Building ``WWW-Authenticate: Bearer`` challenges (RFC 6750 section 3, MCP authorization spec).

The SDK's `RequireAuthMiddleware` always sends ``error="invalid_token"`` and names one scope; this
module builds the challenges RFC 6750 section 3.1 asks for instead:

- no credentials at all: no ``error`` attribute, only ``resource_metadata`` and ``scope``;
- a malformed request: 400 ``invalid_request``;
- a bad token: 401 ``invalid_token``;
- a good token lacking scopes: 403 ``insufficient_scope`` with ``scope`` naming the scopes the
  resource requires (every missing one among them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.types import Send


@dataclass(frozen=True)
class BearerError:
    """A bearer-token failure the resource server answers with a challenge."""

    status: int
    error: str | None
    description: str


NO_CREDENTIALS = BearerError(401, None, "Authentication required: send an Authorization: Bearer header")


def _quoted(value: str) -> str:
    # RFC 6750 section 3: error_description uses %x20-21 / %x23-5B / %x5D-7E; drop anything else.
    cleaned = "".join(ch for ch in value if 0x20 <= ord(ch) <= 0x7E and ch not in '"\\')
    return f'"{cleaned}"'


def bearer_challenge(
    failure: BearerError,
    *,
    resource_metadata_url: str | None,
    scopes: tuple[str, ...] | list[str],
) -> str:
    """The ``WWW-Authenticate`` value for `failure`; attribute order follows the MCP spec examples."""
    params: list[str] = []
    if failure.error is not None:
        params.append(f"error={_quoted(failure.error)}")
        params.append(f"error_description={_quoted(failure.description)}")
    if resource_metadata_url is not None:
        params.append(f"resource_metadata={_quoted(resource_metadata_url)}")
    if scopes:
        params.append(f"scope={_quoted(' '.join(scopes))}")
    return "Bearer " + ", ".join(params) if params else "Bearer"


async def send_challenge(
    send: Send,
    failure: BearerError,
    *,
    resource_metadata_url: str | None,
    scopes: tuple[str, ...] | list[str],
) -> None:
    body: dict[str, str] = {"error_description": failure.description}
    if failure.error is not None:
        body = {"error": failure.error, **body}
    payload = json.dumps(body).encode()
    challenge = bearer_challenge(failure, resource_metadata_url=resource_metadata_url, scopes=scopes)
    await send(
        {
            "type": "http.response.start",
            "status": failure.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"www-authenticate", challenge.encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
