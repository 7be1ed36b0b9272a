from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oscal_mcp.oscal.issues import ValidationIssue, cap, json_path, level_result
from oscal_mcp.oscal.models import MODEL_NAMES, MODELS
from oscal_mcp.oscal.validation import Request, detect_model, validate
from tests.tools.conftest import Connect, error_text, structured
from tests.tools.documents import catalog, component_definition, numbers_for_strings

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=10)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


def levels(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {level["level"]: level for level in result["levels"]}


def broken_catalog() -> dict[str, Any]:
    doc = catalog(groups=1, controls_per_group=5)
    controls = doc["catalog"]["groups"][0]["controls"]
    del controls[3]["title"]
    controls[1]["id"] = "not an id"
    controls[2]["props"][0]["nme"] = "typo"
    doc["catalog"]["metadata"]["last-modified"] = "yesterday"
    return doc


@pytest.mark.anyio
async def test_a_valid_catalog_passes_all_four_levels(connect: Connect) -> None:
    async with connect() as client:
        result = structured(await client.call_tool("validate_oscal_content", {"content": json.dumps(catalog())}))
    assert result["valid"] is True
    assert result["model"] == "catalog" and result["model_source"] == "root-key"
    assert [(lv["level"], lv["status"]) for lv in result["levels"]] == [
        ("well-formed", "passed"),
        ("schema-valid", "passed"),
        ("model-valid", "passed"),
        ("constraints-valid", "passed"),
    ]
    assert result["document_oscal_version"] == "1.2.1"


@pytest.mark.anyio
async def test_errors_carry_json_paths_at_each_level(connect: Connect) -> None:
    async with connect() as client:
        result = structured(await client.call_tool("validate_oscal_content", {"content": json.dumps(broken_catalog())}))
    assert result["valid"] is False
    by_level = levels(result)
    schema_paths = {e["path"] for e in by_level["schema-valid"]["errors"]}
    assert schema_paths == {
        "$.catalog.metadata.last-modified",  # NIST's DateTimeWithTimezoneDatatype pattern
        "$.catalog.groups[0].controls[1].id",
        "$.catalog.groups[0].controls[2].props[0]",
        "$.catalog.groups[0].controls[3]",
    }
    model_paths = {e["path"] for e in by_level["model-valid"]["errors"]}
    assert model_paths == {
        "$.catalog.metadata.last-modified",
        "$.catalog.groups[0].controls[1].id",
        "$.catalog.groups[0].controls[2].props[0].nme",
        "$.catalog.groups[0].controls[3].title",
    }
    assert by_level["model-valid"]["error_count"] == 4


@pytest.mark.anyio
async def test_malformed_json_reports_line_and_column_and_skips_the_other_levels(connect: Connect) -> None:
    async with connect() as client:
        result = structured(await client.call_tool("validate_oscal_content", {"content": '{\n  "catalog": {,\n}'}))
    by_level = levels(result)
    (error,) = by_level["well-formed"]["errors"]
    assert (error["line"], error["column"]) == (2, 15)
    assert error["message"].startswith("malformed JSON")
    assert by_level["schema-valid"]["status"] == by_level["model-valid"]["status"] == "skipped"


@pytest.mark.anyio
async def test_yaml_content_is_validated_and_timestamps_stay_strings(connect: Connect) -> None:
    import yaml

    content = yaml.safe_dump(json.loads(json.dumps(catalog())), sort_keys=False)
    assert "last-modified: '2025" in content or "last-modified: 2025" in content
    async with connect() as client:
        result = structured(await client.call_tool("validate_oscal_content", {"content": content, "format": "yaml"}))
    assert result["valid"] is True, result
    assert result["format"] == "yaml"


@pytest.mark.anyio
async def test_malformed_yaml_reports_line_and_column(connect: Connect) -> None:
    async with connect() as client:
        result = structured(
            await client.call_tool(
                "validate_oscal_content", {"content": "catalog:\n  uuid: [1, 2\n  x: 3", "format": "yaml"}
            )
        )
    (error,) = levels(result)["well-formed"]["errors"]
    assert error["line"] == 3 and error["column"] is not None


@pytest.mark.anyio
async def test_yaml_aliases_are_refused_as_content(connect: Connect) -> None:
    bomb = "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n"
    async with connect() as client:
        result = structured(await client.call_tool("validate_oscal_content", {"content": bomb, "format": "yaml"}))
    assert "anchors and aliases" in levels(result)["well-formed"]["errors"][0]["message"]


@pytest.mark.anyio
async def test_a_schema_key_beside_the_root_is_tolerated(connect: Connect) -> None:
    doc = {"$schema": "https://example.org/oscal_catalog_schema.json", **catalog()}
    async with connect() as client:
        result = structured(await client.call_tool("validate_oscal_content", {"content": json.dumps(doc)}))
    assert result["valid"] is True


@pytest.mark.anyio
async def test_the_model_argument_overrides_detection(connect: Connect) -> None:
    async with connect() as client:
        result = structured(
            await client.call_tool("validate_oscal_content", {"content": json.dumps(catalog()), "model": "profile"})
        )
    assert result["model"] == "profile" and result["model_source"] == "argument"
    messages = [e["message"] for e in levels(result)["schema-valid"]["errors"]]
    assert "'profile' is a required property" in messages
    assert levels(result)["model-valid"]["errors"][0]["message"] == "the root key 'profile' is missing"


@pytest.mark.anyio
async def test_an_unknown_root_key_fails_schema_level_with_the_valid_names(connect: Connect) -> None:
    async with connect() as client:
        result = structured(await client.call_tool("validate_oscal_content", {"content": '{"catalogue": {}}'}))
    by_level = levels(result)
    assert by_level["well-formed"]["status"] == "passed"
    message = by_level["schema-valid"]["errors"][0]["message"]
    assert "'catalogue'" in message and all(name in message for name in MODEL_NAMES)
    assert by_level["model-valid"]["status"] == "skipped"


@pytest.mark.anyio
async def test_an_unknown_model_argument_is_a_tool_error_listing_the_valid_ones(connect: Connect) -> None:
    async with connect() as client:
        text = error_text(await client.call_tool("validate_oscal_content", {"content": "{}", "model": "sspp"}))
    assert "unknown OSCAL model 'sspp'" in text and "system-security-plan" in text


@pytest.mark.anyio
async def test_an_unsupported_format_is_a_tool_error(connect: Connect) -> None:
    async with connect() as client:
        text = error_text(await client.call_tool("validate_oscal_content", {"content": "<catalog/>", "format": "xml"}))
    assert "use one of: json, yaml" in text


@pytest.mark.anyio
async def test_errors_are_capped_per_level_with_the_total_reported(connect: Connect) -> None:
    doc = catalog(groups=1, controls_per_group=30)
    for control in doc["catalog"]["groups"][0]["controls"]:
        del control["title"]
    async with connect(OSCAL_MAX_ERRORS="5") as client:
        result = structured(await client.call_tool("validate_oscal_content", {"content": json.dumps(doc)}))
    for level in ("schema-valid", "model-valid"):
        entry = levels(result)[level]
        assert entry["error_count"] == 30
        assert len(entry["errors"]) == 5 and entry["errors_truncated"] is True
    assert result["max_errors_per_level"] == 5
    assert "showing at most 5 per level" in result["summary"]


@pytest.mark.anyio
async def test_content_larger_than_the_document_limit_is_refused(connect: Connect) -> None:
    async with connect(OSCAL_MAX_DOCUMENT_BYTES="2048") as client:
        text = error_text(await client.call_tool("validate_oscal_content", {"content": json.dumps(catalog())}))
    assert "OSCAL_MAX_DOCUMENT_BYTES" in text


@pytest.mark.anyio
async def test_a_component_definition_is_detected_and_validated(connect: Connect) -> None:
    async with connect() as client:
        result = structured(
            await client.call_tool("validate_oscal_content", {"content": json.dumps(component_definition())})
        )
    assert result["valid"] is True and result["model"] == "component-definition"


def test_deeply_nested_content_is_a_well_formedness_error_not_a_crash() -> None:
    result = validate(Request("[" * 50_000 + "]" * 50_000, "json", None, "content", 20))
    assert result.levels[0].status == "failed"
    assert "levels deep" in result.levels[0].errors[0].message
    nested = validate(Request('{"catalog": ' + '{"a": ' * 150 + "1" + "}" * 151, "json", None, "content", 20))
    assert "levels deep" in nested.levels[0].errors[0].message


def test_messages_are_clipped_so_results_stay_small() -> None:
    doc = catalog(groups=1, controls_per_group=1)
    doc["catalog"]["groups"][0]["controls"][0]["id"] = "x " * 5000
    result = validate(Request(json.dumps(doc), "json", None, "content", 20))
    assert all(len(e.message) <= 300 for level in result.levels for e in level.errors)
    assert len(result.model_dump_json()) < 5000


# -- properties --------------------------------------------------------------------------------------


@given(model=st.sampled_from(MODELS), inner=JSON_VALUES, with_schema=st.booleans())
def test_detection_finds_the_model_from_its_root_key(model: Any, inner: Any, with_schema: bool) -> None:
    doc: dict[str, Any] = {model.root_key: inner}
    if with_schema:
        doc = {"$schema": "anything", **doc}
    detection = detect_model(doc)
    assert detection.model == model and detection.problem is None


@given(doc=st.dictionaries(st.text(max_size=12).filter(lambda k: k not in MODEL_NAMES), JSON_VALUES, max_size=4))
def test_detection_without_an_oscal_root_key_explains_why(doc: dict[str, Any]) -> None:
    detection = detect_model(doc)
    assert detection.model is None
    assert detection.problem and "catalog" in detection.problem


@given(value=JSON_VALUES.filter(lambda v: not isinstance(v, dict)))
def test_detection_of_a_non_object_explains_why(value: Any) -> None:
    detection = detect_model(value)
    assert detection.model is None and detection.problem and "not an object" in detection.problem


@given(names=st.lists(st.sampled_from(MODEL_NAMES), min_size=2, max_size=4, unique=True))
def test_detection_refuses_several_oscal_root_keys(names: list[str]) -> None:
    detection = detect_model({name: {} for name in names})
    assert detection.model is None and detection.problem and "several" in detection.problem


@given(items=st.lists(st.integers()), limit=st.integers(min_value=1, max_value=50))
def test_capping_keeps_a_prefix_and_counts_everything(items: list[int], limit: int) -> None:
    kept, total = cap(iter(items), limit)
    assert total == len(items)
    assert kept == items[:limit]


@settings(max_examples=50)
@given(count=st.integers(min_value=0, max_value=120), limit=st.integers(min_value=1, max_value=40))
def test_a_level_result_is_bounded_by_max_errors(count: int, limit: int) -> None:
    issues = (ValidationIssue(path=f"$.x[{i}]", message="bad") for i in range(count))
    result = level_result("schema-valid", issues, limit)
    assert result.error_count == count
    assert len(result.errors) == min(count, limit)
    assert result.errors_truncated == (count > limit)
    assert result.status == ("failed" if count else "passed")


@given(parts=st.lists(st.integers(min_value=0, max_value=99) | st.text(max_size=8), max_size=6))
def test_json_paths_start_at_the_root_and_quote_odd_keys(parts: list[Any]) -> None:
    path = json_path(parts)
    assert path.startswith("$")
    assert json_path(["catalog", "groups", 0, "back-matter"]) == "$.catalog.groups[0].back-matter"
    assert json_path(["a b"]) == "$['a b']"


# -- NIST's schema, run by jsonschema-rs ------------------------------------------------------------


def test_the_schema_level_says_which_nist_release_checked_it() -> None:
    result = validate(Request(json.dumps(catalog()), "json", None, "content", 20))
    assert result.valid and result.schema_oscal_version == "1.2.1" == result.document_oscal_version
    note = result.levels[1].note or ""
    assert note.startswith("Checked with NIST's OSCAL 1.2.1 JSON Schema (jsonschema-rs).")


@settings(max_examples=60, deadline=None)
@given(document=JSON_VALUES, model=st.sampled_from(MODELS) | st.none(), fmt=st.sampled_from(["json", "yaml"]))
def test_validation_never_raises_on_any_json_value(document: Any, model: Any, fmt: str) -> None:
    import yaml

    text = json.dumps(document) if fmt == "json" else yaml.safe_dump(document)
    result = validate(Request(text, fmt, model, "content", 3))  # type: ignore[arg-type]
    assert [level.level for level in result.levels] == [
        "well-formed",
        "schema-valid",
        "model-valid",
        "constraints-valid",
    ]
    assert all(len(level.errors) <= 3 for level in result.levels)


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=200), fmt=st.sampled_from(["json", "yaml"]))
def test_validation_never_raises_on_arbitrary_text(text: str, fmt: str) -> None:
    result = validate(Request(text, fmt, None, "content", 3))  # type: ignore[arg-type]
    assert result.valid is False


# -- schema messages never quote the document ----------------------------------------------------------

SECRET = "s3cr3t-value-that-must-not-leak"


def secret_everywhere() -> dict[str, Any]:
    """A catalog with a secret string in a pattern, a type, an enum and an object position."""
    doc = catalog(groups=1, controls_per_group=2)
    controls = doc["catalog"]["groups"][0]["controls"]
    controls[0]["id"] = f"{SECRET} has spaces"  # pattern
    controls[1]["params"][0]["select"] = {"how-many": SECRET}  # enum
    controls[1]["parts"] = SECRET  # type: an array expected
    doc["catalog"]["metadata"]["props"] = [{"name": "x", "value": "y", SECRET: 1}]  # additional property
    return doc


def test_schema_errors_keep_the_reason_but_never_the_value() -> None:
    result = validate(Request(json.dumps(secret_everywhere()), "json", None, "content", 20))
    schema = {e.path: e.message for e in result.levels[1].errors}
    assert schema["$.catalog.groups[0].controls[0].id"].startswith(f"a string of {len(SECRET) + 11} characters ")
    assert "does not match '^" in schema["$.catalog.groups[0].controls[0].id"]
    how_many = schema["$.catalog.groups[0].controls[1].params[0].select.how-many"]
    assert how_many == f"a string of {len(SECRET)} characters is not one of 'one', 'one-or-more'"
    assert (
        schema["$.catalog.groups[0].controls[1].parts"]
        == f"a string of {len(SECRET)} characters is not of type 'array'"
    )
    additional = schema["$.catalog.metadata.props[0]"]
    assert additional.startswith("Additional properties are not allowed (") and "was unexpected" in additional
    schema_text = json.dumps([e.model_dump() for e in result.levels[1].errors])
    assert schema_text.count(SECRET) == 1  # only as the unexpected property's name, as in its JSON path


@pytest.mark.anyio
async def test_a_dotenv_like_document_is_not_echoed(connect: Connect) -> None:
    content = "OSCAL_AUTH_CLIENT_SECRET=s3cr3t-value"
    async with connect() as client:
        result = structured(
            await client.call_tool("validate_oscal_content", {"content": content, "model": "catalog", "format": "yaml"})
        )
    assert "s3cr3t" not in json.dumps(result)
    (error,) = levels(result)["schema-valid"]["errors"]
    assert error["message"] == "a string of 37 characters is not of type 'object'"


@pytest.mark.parametrize(
    ("value", "described"),
    [
        (None, "null"),
        (True, "a boolean"),
        (7, "an integer"),
        (1.5, "a number"),
        ("", "a string of 0 characters"),
        ("x", "a string of 1 character"),
        ([1, 2], "an array of 2 items"),
        ({"a": 1}, "an object with 1 property"),
    ],
)
def test_values_are_described_not_quoted(value: Any, described: str) -> None:
    from oscal_mcp.oscal.schema_messages import describe

    assert describe(value) == described


# -- numbers Python will not convert -------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", ["json", "yaml"])
async def test_an_integer_with_too_many_digits_is_a_well_formedness_error(connect: Connect, fmt: str) -> None:
    async with connect() as client:
        result = structured(await client.call_tool("validate_oscal_content", {"content": "1" * 5000, "format": fmt}))
        nested = structured(
            await client.call_tool(
                "validate_oscal_content", {"content": '{"catalog": {"x": ' + "9" * 5000 + "}}", "format": fmt}
            )
        )
    for outcome in (result, nested):
        (error,) = levels(outcome)["well-formed"]["errors"]
        assert "more than 4300 digits" in error["message"]
        assert outcome["valid"] is False


# -- sizes are bytes ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_content_limit_counts_utf8_bytes_not_characters(connect: Connect) -> None:
    content = '{"catalog": "' + "\u00e9" * 1500 + '"}'  # 1515 characters, 3015 bytes
    async with connect(OSCAL_MAX_DOCUMENT_BYTES="2048") as client:
        text = error_text(await client.call_tool("validate_oscal_content", {"content": content}))
    assert "3015 bytes" in text and "OSCAL_MAX_DOCUMENT_BYTES" in text


def test_size_bytes_counts_utf8_bytes() -> None:
    result = validate(Request('{"a": "\u00e9"}', "json", None, "content", 20))
    assert result.size_bytes == len('{"a": "\u00e9"}'.encode())


# -- a bounded schema level ------------------------------------------------------------------------------


def test_listing_schema_errors_stops_at_the_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from oscal_mcp.oscal import schema_level

    monkeypatch.setattr(schema_level, "LISTING_BUDGET_SECONDS", 0.0)
    doc = catalog(groups=40, controls_per_group=20)
    doc["catalog"]["groups"] = numbers_for_strings(doc["catalog"]["groups"])  # about 20 000 errors
    result = validate(Request(json.dumps(doc), "json", None, "content", 20))
    level = result.levels[1]
    assert level.status == "failed" and level.error_count_complete is False
    assert 1 <= level.error_count < 20_000 and len(level.errors) == min(level.error_count, 20)
    assert level.note and "Listing stopped after 0 s" in level.note
    assert re.search(r"schema-valid: \d+\+ error\(s\)", result.summary), result.summary


def test_without_a_budget_every_schema_error_is_counted() -> None:
    doc = catalog(groups=4, controls_per_group=5)
    doc["catalog"]["groups"] = numbers_for_strings(doc["catalog"]["groups"])
    level = validate(Request(json.dumps(doc), "json", None, "content", 20)).levels[1]
    assert level.error_count_complete is True and level.error_count > 20 and len(level.errors) == 20


def test_the_time_budget_never_cuts_a_valid_document_short(monkeypatch: pytest.MonkeyPatch) -> None:
    from oscal_mcp.oscal import schema_level

    monkeypatch.setattr(schema_level, "LISTING_BUDGET_SECONDS", 0.0)
    valid = validate(Request(json.dumps(catalog(groups=5, controls_per_group=10)), "json", None, "content", 20))
    assert valid.levels[1].status == "passed" and valid.levels[1].error_count_complete is True
    stopped = validate(Request(json.dumps(broken_catalog()), "json", None, "content", 20)).levels[1]
    assert stopped.status == "failed" and stopped.error_count >= 1 and stopped.error_count_complete is False


def numbers_catalog() -> dict[str, Any]:
    doc = catalog(groups=1, controls_per_group=2)
    doc["catalog"]["groups"] = numbers_for_strings(doc["catalog"]["groups"])
    return doc


def mixed_catalog() -> dict[str, Any]:
    doc = broken_catalog()
    doc["catalog"]["groups"][0]["controls"][0]["params"][0]["select"] = {"how-many": "all", "choice": []}
    doc["catalog"]["groups"].append({"id": "g9", "title": "Nested", "groups": [{"id": "bad id", "title": 5}]})
    doc["catalog"]["back-matter"] = {"resources": [{"uuid": "nope", "rlinks": [{"href": 3}]}]}
    return doc


@pytest.mark.parametrize("document", [numbers_catalog(), mixed_catalog(), secret_everywhere(), {"catalog": None}])
def test_every_schema_error_has_a_path_and_a_message_without_values(document: dict[str, Any]) -> None:
    level = validate(Request(json.dumps(document), "json", None, "content", 50)).levels[1]
    assert level.status == "failed" and level.errors
    for error in level.errors:
        assert error.path.startswith("$") and error.message
        assert SECRET not in error.message or error.message.startswith("Additional properties")  # a key, not a value
