"""Logging set-up: everything to stderr (stdout belongs to the stdio protocol), credentials redacted."""

from __future__ import annotations

import logging
import re
import sys

# A query parameter whose name says it carries a credential, e.g. ?access_token=... (never accepted,
# but a client may still send one, and the access log would otherwise keep it).
_CREDENTIAL_PARAM = re.compile(r"(?i)([?&][^=&\s]*(?:token|secret|password|key)[^=&\s]*=)[^&\s\"]*")


def redact(text: str) -> str:
    return _CREDENTIAL_PARAM.sub(r"\1[redacted]", text)


class RedactCredentials(logging.Filter):
    """Redacts credential-bearing query parameters from a record's message arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactCredentials())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every outgoing request at INFO (each introspection call, each JWKS fetch): noise
    # unless debugging. Our own log lines already say what was fetched and why.
    for chatty in ("httpx", "httpx2"):
        logging.getLogger(chatty).setLevel(level if level == "DEBUG" else "WARNING")
