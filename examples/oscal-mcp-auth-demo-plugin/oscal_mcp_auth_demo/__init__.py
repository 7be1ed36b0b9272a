"""Example oscal_mcp_auth plugin: the `demo-hmac` verifier and the `demo-hooks` hook plugin."""
