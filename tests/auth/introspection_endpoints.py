"""The Authorization Server every introspection unit test talks to (respx-mocked addresses)."""

NOW = 1_800_000_000  # the wall clock the tests stand at (time-machine)
ISSUER = "https://as.example.com"
RESOURCE = "https://mcp.example.com/mcp"
ENDPOINT = "https://as.example.com/introspect"
METADATA = "https://as.example.com/.well-known/oauth-authorization-server"
