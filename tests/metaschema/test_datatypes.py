"""Metaschema's data types for ``matches datatype=``: what each type accepts and what it refuses."""

from __future__ import annotations

import pytest

from oscal_mcp.oscal.metaschema.datatypes import is_of_type


@pytest.mark.parametrize(
    ("datatype", "value"),
    [
        ("date", "2024-01-13"),  # day 13 is no month: the day and month are not swapped
        ("date", "2024-02-29"),  # a leap year
        ("date", "2024-12-31Z"),
        ("date", "2024-12-31+05:30"),
        ("date-with-timezone", "2024-12-31-08:00"),
        ("date-time", "2024-01-13T23:59:59"),
        ("date-time", "2024-02-29T00:00:00.123"),
        ("date-time-with-timezone", "2024-01-13T12:30:45Z"),
        ("date-time-with-timezone", "2024-01-13T12:30:45.5+01:00"),
        ("integer", "-12"),
        ("integer", "+7"),
        ("non-negative-integer", "0"),
        ("positive-integer", "1"),
        ("uuid", "6ba7b810-9dad-41d1-80b4-00c04fd430c8"),
        ("uuid", "6BA7B810-9DAD-51D1-B0B4-00C04FD430C8"),
        ("uri", "https://example.com/a?b=c"),
        ("uri", "urn:ietf:rfc:3986"),
        ("uri-reference", "#ac-1"),
        ("uri-reference", ""),
        ("token", "ac-1_smt.a"),
        ("string", "x"),
        ("ip-v4-address", "192.0.2.1"),
        ("ip-v6-address", "2001:db8::1"),
    ],
)
def test_a_value_of_the_type_is_accepted(datatype: str, value: str) -> None:
    assert is_of_type(datatype, value) is True


@pytest.mark.parametrize(
    ("datatype", "value"),
    [
        ("date", "2023-02-29"),  # not a leap year
        ("date", "2024-13-01"),
        ("date", "2024-04-31"),
        ("date", "2024-1-01"),
        ("date", "2024-01-01T00:00:00"),
        ("date-with-timezone", "2024-12-31"),
        ("date-with-timezone", "2023-02-29Z"),
        ("date-time", "2024-01-13"),
        ("date-time", "2024-01-13T24:00:00"),
        ("date-time", "2024-01-13T23:60:00"),
        ("date-time", "2024-01-13T23:59:60"),
        ("date-time", "2023-02-29T00:00:00"),  # a valid time on a day that does not exist
        ("date-time", "2024-01-13T1:00:00"),
        ("date-time-with-timezone", "2024-01-13T12:30:45"),
        ("date-time-with-timezone", "2023-02-29T12:30:45Z"),
        ("date-time-with-timezone", "2024-01-13T25:30:45Z"),
        ("integer", "1.5"),
        ("integer", ""),
        ("non-negative-integer", "-1"),
        ("positive-integer", "0"),
        ("positive-integer", "-3"),
        ("uuid", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),  # version 1
        ("uuid", "6ba7b810-9dad-41d1-70b4-00c04fd430c8"),  # not the RFC 4122 variant
        ("uri", "example.com/a"),
        ("uri", "https://example.com/a b"),
        ("uri-reference", "a b"),
        ("token", "a:b"),
        ("token", "a b"),
        ("token", ""),
        ("string", ""),
        ("string", " \t\n"),
        ("ip-v4-address", "192.0.2.256"),
        ("ip-v4-address", "2001:db8::1"),
        ("ip-v6-address", "192.0.2.1"),
        ("ip-v6-address", "2001:db8::g"),
    ],
)
def test_a_value_not_of_the_type_is_refused(datatype: str, value: str) -> None:
    assert is_of_type(datatype, value) is False


def test_an_unknown_type_is_a_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match="no-such-type"):
        is_of_type("no-such-type", "x")
