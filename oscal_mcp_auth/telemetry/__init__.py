"""Telemetry as hook plugins: the library reports what happens (`specs`), plugins turn it into
metrics (`metrics`, Prometheus) or traces (`tracing`, OpenTelemetry).

The built-in plugins are registered through the same `register_plugin` as third-party hook
plugins; the request path only calls hooks, and calls none when no plugin listens.
"""

from oscal_mcp_auth.telemetry.relay import NO_TELEMETRY, Telemetry, current_telemetry, installed, note_rejection

__all__ = ["NO_TELEMETRY", "Telemetry", "current_telemetry", "installed", "note_rejection"]
