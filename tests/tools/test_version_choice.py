"""The schema release chosen for a stated ``metadata.oscal-version``, over a space of version strings
(hypothesis), checked against the rule written out separately here from the bundled releases."""

from __future__ import annotations

import re

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from oscal_mcp.oscal import schemas
from oscal_mcp.oscal.schemas import bundled_versions, choose_version

BUNDLED = bundled_versions()
NEWEST = BUNDLED[-1]


def parts(version: str) -> tuple[int, int, int] | None:
    """major.minor.patch in ASCII digits, nothing before or after (pre-releases are other versions)."""
    match = re.fullmatch(r"([0-9]+)\.([0-9]+)\.([0-9]+)", version)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def expected_choice(stated: str) -> str | None:
    if stated in BUNDLED:
        return stated
    wanted = parts(stated.strip())
    newest = parts(NEWEST)
    assert newest is not None
    if wanted is None or wanted[0] != newest[0]:
        return None  # another major release (0.x, 2.x), a pre-release, or no version at all
    same_minor = sorted((parts(v), v) for v in BUNDLED if parts(v)[:2] == wanted[:2])  # type: ignore[index]
    if same_minor:
        return next((v for p, v in same_minor if p >= wanted), same_minor[-1][1])  # type: ignore[operator]
    return NEWEST if wanted[:2] < newest[:2] else None


def near(version: str) -> list[str]:
    major, minor, patch = (int(p) for p in version.split("."))
    return [
        f"{major}.{minor}.{patch + step}" for step in (-1, 1, 5)
    ] + [
        f"{major}.{max(minor - 1, 0)}.0", f"{major}.{minor + 1}.0", f"{major - 1}.{minor}.{patch}",
        f"{major + 1}.0.0", f"0.{minor}.{patch}", f"{version}-rc1", f"{version}.0", f"v{version}",
        f" {version} ", f"{major}.{minor}", version.replace("1", "\uff11"), f"{version}\n", "latest", "",
    ]  # fmt: skip


@st.composite
def stated_versions(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from(BUNDLED))
    if draw(st.integers(0, 3)) == 0:
        return base
    return draw(
        st.sampled_from(near(base))
        | st.from_regex(r"1\.[0-4]\.[0-9]", fullmatch=True)
        | st.from_regex(r"[0-3]\.[0-9]{1,2}\.[0-9]{1,2}", fullmatch=True)
    )


@given(stated=stated_versions())
def test_the_release_chosen_follows_the_rule(stated: str) -> None:
    expected = expected_choice(stated)
    event("a release is chosen" if expected else "unsupported")
    choice = choose_version(stated)
    assert choice.version == expected, stated
    if expected is None:
        assert choice.note is not None and "is not supported" in choice.note
    else:
        assert (choice.note is None) is (stated == expected)


@pytest.mark.parametrize("stated", ["0.9.0", "0.2.3", "0.1.2"])
def test_a_0x_document_is_not_checked_with_a_1x_schema(stated: str) -> None:
    assert choose_version(stated).version is None


@pytest.mark.parametrize(
    "stated", [f"{NEWEST}-rc1", f"{NEWEST}+build", f"{NEWEST}.0", f"v{NEWEST}", "\uff11.\uff12.\uff13"]
)
def test_a_pre_release_or_decorated_version_is_not_taken_for_the_release(stated: str) -> None:
    choice = choose_version(stated)
    assert choice.version is None
    assert choice.note is not None and repr(stated) in choice.note


def test_a_document_without_a_version_is_checked_with_the_newest_of_any_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    """The newest release is the last of the bundled ones, however many there are (two today)."""
    monkeypatch.setattr(schemas, "bundled_versions", lambda: ("1.0.4", "1.1.2", "1.2.3"))
    assert choose_version(None).version == "1.2.3"
    assert choose_version("1.0.0").version == "1.0.4"


@pytest.mark.parametrize("stated", [f" {version} " for version in BUNDLED] + [f"{version}\n" for version in BUNDLED])
def test_a_bundled_release_with_surrounding_space_is_checked_with_that_release(stated: str) -> None:
    assert choose_version(stated).version == stated.strip()


def test_an_earlier_minor_release_is_checked_with_the_newest_and_says_what_may_differ() -> None:
    assert choose_version("1.1.2").note == (
        f"OSCAL 1.1.2 is not bundled; NIST's {NEWEST} schema, the newest bundled, was used. Later releases "
        "tightened a few rules (e.g. 1.2.0 requires a time zone on metadata dates), so an error may be one "
        "that 1.1.2 allowed."
    )


def test_an_unsupported_version_is_named_cut_to_40_characters_with_what_is_bundled() -> None:
    stated = "2." + "9" * 50
    assert choose_version(stated).note == (
        f"OSCAL version {stated[:40]!r} is not supported: this server bundles NIST's schemas for "
        f"{', '.join(BUNDLED)} (earlier 1.x documents are checked with {NEWEST}). Set metadata.oscal-version "
        "to one of those to validate the document at this level."
    )
