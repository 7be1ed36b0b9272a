"""Mint a demo token: python -m oscal_mcp_auth_demo.mint SECRET CLIENT_ID [SCOPE ...]"""

from __future__ import annotations

import base64
import sys
import time

from oscal_mcp_auth_demo.verifier import sign


def mint(secret: str, client_id: str, scopes: list[str], lifetime: int = 3600) -> str:
    text = " ".join([client_id, str(int(time.time()) + lifetime), *scopes])
    payload = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")  # "=" may only end a token
    return f"{payload}.{sign(secret, payload)}"


if __name__ == "__main__":
    print(mint(sys.argv[1], sys.argv[2], sys.argv[3:]))
