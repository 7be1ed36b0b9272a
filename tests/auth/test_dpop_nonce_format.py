"""The DPoP nonce itself (RFC 9449 section 9): its period, its MAC's length and the key derived from the
shared secret, checked against the format the module documents, written out here separately."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from time_machine import TimeMachineFixture

from oscal_mcp_auth.dpop_nonce import NonceIssuer

SECRET = b"s" * 32
LABEL = b"oscal_mcp_auth dpop nonce v1\x00"
PERIOD_START = 16_000 * 60.0  # a multiple of the default period (and of 120)


class Clock:
    def __init__(self, now: float = PERIOD_START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def expected_nonce(key: bytes, epoch: int) -> str:
    """base64url(epoch || HMAC-SHA256(key, label || epoch)[:16]), unpadded."""
    counter = epoch.to_bytes(8, "big")
    mac = hmac.new(key, LABEL + counter, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(counter + mac).rstrip(b"=").decode()


def test_by_default_a_nonce_rotates_every_minute_and_is_refused_after_two() -> None:
    clock = Clock()
    issuer = NonceIssuer(clock=clock)
    nonce = issuer.current()
    clock.now += 59.9
    assert issuer.current() == nonce
    clock.now = PERIOD_START + 60
    assert issuer.current() != nonce and issuer.accepts(nonce)
    clock.now = PERIOD_START + 119.9
    assert issuer.accepts(nonce)
    clock.now = PERIOD_START + 120
    assert not issuer.accepts(nonce)


def test_a_nonce_is_the_epoch_and_a_128_bit_mac_under_the_key() -> None:
    key = b"k" * 32
    issuer = NonceIssuer(key, rotate_seconds=60, clock=Clock())
    assert issuer.current() == expected_nonce(key, 16_000)
    assert len(base64.urlsafe_b64decode(issuer.current() + "==")) == 8 + 16


@pytest.mark.time_machine(PERIOD_START, tick=False)
def test_the_shared_secret_is_never_the_nonce_key_itself() -> None:
    """from_secret derives the key (HMAC of a label under the secret): the cache secret used as is
    would make a nonce a MAC under the key that also authenticates the shared cache's entries."""
    derived = NonceIssuer.from_secret(SECRET)
    derived_key = hmac.new(SECRET, LABEL, hashlib.sha256).digest()
    assert derived.current() == expected_nonce(derived_key, 16_000)
    assert not NonceIssuer(SECRET).accepts(derived.current())


def test_from_secret_keeps_the_period_it_is_given(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(PERIOD_START, tick=False)
    issuer = NonceIssuer.from_secret(SECRET, rotate_seconds=10)
    nonce = issuer.current()
    time_machine.shift(20)
    assert not issuer.accepts(nonce)


def test_a_nonce_before_the_epoch_counter_starts_is_still_well_formed() -> None:
    key = b"k" * 32
    issuer = NonceIssuer(key, rotate_seconds=60, clock=Clock(-500.0))
    assert issuer.current() == expected_nonce(key, 0)


@pytest.mark.parametrize("rotate_seconds", [0, -1, -0.5])
def test_a_period_that_is_not_positive_is_refused(rotate_seconds: float) -> None:
    with pytest.raises(ValueError, match=r"^rotate_seconds must be positive$"):
        NonceIssuer(rotate_seconds=rotate_seconds)


def test_a_period_under_a_second_is_allowed() -> None:
    clock = Clock()
    issuer = NonceIssuer(b"k" * 32, rotate_seconds=0.5, clock=clock)
    nonce = issuer.current()
    clock.now += 0.5
    assert issuer.accepts(nonce) and issuer.current() != nonce
    clock.now += 0.5
    assert not issuer.accepts(nonce)
