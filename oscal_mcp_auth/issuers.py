"""Several issuers for one resource server: each with its own keys, chosen by a token's exact ``iss``.

Spring Security's ``JwtIssuerAuthenticationManagerResolver`` is the model:

- a JWT names its issuer in ``iss``. That claim is read from the *unverified* payload only to
  choose whose keys to try; the signature is then checked with that issuer's keys alone, and the
  claims check requires ``iss`` to equal the chosen issuer. So a token signed by issuer A but
  labelled ``iss=B`` is refused: B's keys never verify A's signature, even when both use the
  same ``kid``;
- the choice is an exact string comparison (RFC 9068 section 4 and RFC 7519 section 4.1.1: ``iss``
  MUST match the issuer identifier exactly; RFC 8414 section 3.3 for the metadata's ``issuer``):
  ``https://as.example.com`` and ``https://as.example.com/`` are different issuers;
- an ``iss`` that is not configured selects nothing, and the caller refuses the token
  (``wrong_issuer``) before any key lookup: a made-up issuer never causes a network call, so
  tokens cannot make the server fetch from addresses an attacker chose;
- each issuer owns its discovery, its JWKS cache (TTL, cool-down, single-flight, stale-on-error
  and its expiry) and its HTTP client: an issuer that is down, slow, or flooded with unknown kids
  never delays or fails another issuer's tokens;
- with a shared store (Redis) each issuer's key set is published under a key of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from oscal_mcp_auth.jwks import JwksCache, KeySet, SigningKey

KeySource = JwksCache | KeySet


@dataclass(frozen=True)
class IssuerKeys:
    """One issuer and where its verification keys come from: a JWKS cache, or a fixed key set
    (a PEM key: that key has no ``kid`` and verifies any token of the issuer)."""

    issuer: str
    keys: KeySource

    async def find(self, kid: str | None, alg: str) -> SigningKey | None:
        """The issuer's key for (kid, alg); a JWKS cache may fetch (raises `FetchError` when it
        has no usable key set at all)."""
        if isinstance(self.keys, KeySet):
            return self.keys.find(kid, alg) or self.keys.find(None, alg)
        return await self.keys.find(kid, alg)

    def still_trusts(self, kid: str | None) -> bool:
        """Whether the key `kid` is still in the key set in use (without fetching): a verified
        result is kept only while the key that signed it is."""
        current = self.keys.current if isinstance(self.keys, JwksCache) else self.keys
        return current is not None and kid in current.kids

    async def ready(self) -> str | None:
        """None when tokens of this issuer can be verified now; else the reason word."""
        return await self.keys.ready() if isinstance(self.keys, JwksCache) else None

    async def aclose(self) -> None:
        if isinstance(self.keys, JwksCache):
            await self.keys.aclose()


class Issuers:
    """The configured issuers, in the order given (the order of the metadata's
    ``authorization_servers``), each selected by the exact value of a token's ``iss``."""

    def __init__(self, members: Iterable[IssuerKeys]) -> None:
        self._by_issuer: dict[str, IssuerKeys] = {}
        for member in members:
            if member.issuer in self._by_issuer:
                raise ValueError(f"the issuer {member.issuer!r} is listed twice")
            self._by_issuer[member.issuer] = member
        if not self._by_issuer:
            raise ValueError("at least one issuer is needed")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_issuer)

    def select(self, iss: object) -> IssuerKeys | None:
        """The issuer whose identifier is exactly `iss` (the unverified claim); None for any other
        value, a missing one or a non-string. Never touches the network."""
        return self._by_issuer.get(iss) if isinstance(iss, str) else None

    async def ready(self) -> str | None:
        """None when every issuer's keys are usable; else the first failing issuer's reason word."""
        for member in self._by_issuer.values():
            reason = await member.ready()
            if reason is not None:
                return reason
        return None

    async def aclose(self) -> None:
        """Close every issuer's client, even when closing one of them fails."""
        failures: list[BaseException] = []
        for member in self._by_issuer.values():
            try:
                await member.aclose()
            except Exception as exc:
                failures.append(exc)
        if failures:
            raise failures[0]
