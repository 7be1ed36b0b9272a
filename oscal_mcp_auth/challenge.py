"""Building ``WWW-Authenticate: Bearer`` challenges (RFC 6750 section 3, MCP authorization spec).

The SDK's `RequireAuthMiddleware` always sends ``error="invalid_token"`` and names one scope; this
module builds the challenges RFC 6750 section 3.1 asks for instead:

- no credentials at all: no ``error`` attribute, only ``resource_metadata`` and ``scope``;
- a malformed request: 400 ``invalid_request``;
- a bad token: 401 ``invalid_token``;
- a good token lacking scopes: 403 ``insufficient_scope`` with ``scope`` naming the scopes the
  resource requires (every missing one among them).

Where DPoP is accepted (RFC 9449 section 7.1), every answer carries a second challenge,
``DPoP algs="ES256 RS256"`` with the same ``resource_metadata`` and ``scope``, and the ``error``
goes on the challenge of the scheme the request used (``invalid_dpop_proof`` for a bad proof).
Where DPoP is required, the ``Bearer`` challenge is left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from starlette.types import Send

from oscal_mcp_auth.dpop import DPoPPolicy


@dataclass(frozen=True)
class BearerError:
    """A bearer-token failure the resource server answers with a challenge."""

    status: int
    error: str | None
    description: str
    scheme: str = "Bearer"
    """The scheme whose challenge carries `error`: the one the request used (RFC 9449 section 7.1)."""
    headers: tuple[tuple[bytes, bytes], ...] = field(default=(), compare=False)
    """Extra response headers, e.g. ``Retry-After``."""


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
    scheme: str = "Bearer",
    algs: tuple[str, ...] = (),
) -> str:
    """The ``WWW-Authenticate`` value of `scheme` for `failure`; attribute order follows the MCP
    spec examples. The error is named only when `failure` belongs to `scheme`."""
    params: list[str] = []
    if failure.error is not None and failure.scheme == scheme:
        params.append(f"error={_quoted(failure.error)}")
        params.append(f"error_description={_quoted(failure.description)}")
    if algs:
        params.append(f"algs={_quoted(' '.join(algs))}")  # RFC 9449 section 7.1
    if resource_metadata_url is not None:
        params.append(f"resource_metadata={_quoted(resource_metadata_url)}")
    if scopes:
        params.append(f"scope={_quoted(' '.join(scopes))}")
    return f"{scheme} " + ", ".join(params) if params else scheme


def challenges(
    failure: BearerError,
    *,
    resource_metadata_url: str | None,
    scopes: tuple[str, ...] | list[str],
    dpop: DPoPPolicy | None = None,
) -> list[str]:
    """One ``WWW-Authenticate`` value per scheme the resource accepts, Bearer first."""
    values: list[str] = []
    if dpop is None or not dpop.required:
        values.append(bearer_challenge(failure, resource_metadata_url=resource_metadata_url, scopes=scopes))
    if dpop is not None:
        values.append(
            bearer_challenge(
                failure, resource_metadata_url=resource_metadata_url, scopes=scopes, scheme="DPoP", algs=dpop.algorithms
            )
        )
    return values


async def send_challenge(
    send: Send,
    failure: BearerError,
    *,
    resource_metadata_url: str | None,
    scopes: tuple[str, ...] | list[str],
    dpop: DPoPPolicy | None = None,
) -> None:
    body: dict[str, str] = {"error_description": failure.description}
    if failure.error is not None:
        body = {"error": failure.error, **body}
    payload = json.dumps(body).encode()
    # a server-side failure (503) is no challenge: the credentials may well be fine
    values = (
        []
        if failure.status >= 500
        else challenges(failure, resource_metadata_url=resource_metadata_url, scopes=scopes, dpop=dpop)
    )
    await send(
        {
            "type": "http.response.start",
            "status": failure.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *((b"www-authenticate", value.encode()) for value in values),
                (b"cache-control", b"no-store"),
                *failure.headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
