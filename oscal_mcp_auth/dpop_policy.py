"""DPoP as a resource accepts it (RFC 9449): the policy and the algorithms a proof may use.

Apart from the proof checks (`dpop`) so that reading the settings (`settings`) does not import
`cryptography` and Starlette: a server that never serves HTTP (oscal-mcp over stdio) validates
its DPoP settings without loading the code that checks proofs.
"""

from __future__ import annotations

from dataclasses import dataclass

from oscal_mcp_auth.errors import ConfigurationError

DEFAULT_ALGORITHMS = ("ES256", "RS256")
DEFAULT_MAX_AGE_SECONDS = 300
# RFC 7518 section 3 and RFC 8037: the asymmetric algorithms `dpop_keys` verifies.
EC_ALGORITHMS = ("ES256", "ES384", "ES512")
RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
SUPPORTED_ALGORITHMS = (*EC_ALGORITHMS, *RSA_ALGORITHMS, "EdDSA")


@dataclass(frozen=True)
class DPoPPolicy:
    """DPoP as a resource accepts it: the proofs' algorithms and age, and whether every token must
    be DPoP-bound (`required`: then ``Bearer`` is refused)."""

    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS
    leeway_seconds: float = 60
    required: bool = False

    def __post_init__(self) -> None:
        if not self.algorithms:
            raise ConfigurationError("DPoP needs at least one proof algorithm")
        try:
            accepted_algorithms(self.algorithms)
        except ValueError as exc:
            raise ConfigurationError(f"DPoP algorithms: {exc}") from None
        if self.max_age_seconds <= 0 or self.leeway_seconds < 0:
            raise ConfigurationError("DPoP max age must be positive and the leeway not negative")

    def replay_window(self, iat: float, now: float) -> float:
        """Seconds from `now` until a proof issued at `iat` is no longer accepted."""
        return iat + self.max_age_seconds + self.leeway_seconds - now


def accepted_algorithms(algorithms: tuple[str, ...]) -> tuple[str, ...]:
    """`algorithms` when each may sign a proof; `ValueError` naming the others. RFC 9449 section
    4.3: never ``none``, never a symmetric (MAC) algorithm."""
    refused = [alg for alg in algorithms if alg not in SUPPORTED_ALGORITHMS]
    if refused:
        raise ValueError(f"{', '.join(refused)} is not accepted; use some of: {', '.join(SUPPORTED_ALGORITHMS)}")
    return algorithms
