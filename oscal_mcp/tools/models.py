"""`list_oscal_models`, and the one registry of the OSCAL models every other tool family uses.

Each model is known by one name (its JSON root key, e.g. ``system-security-plan``); the registry
maps it to its layer, formal and short names (from the NIST Metaschema sources) and the
compliance-trestle pydantic classes that validate it. Trestle is imported only when a class is
first needed, so listing models and ``oscal-mcp --help`` stay fast.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

from oscal_mcp.tools.context import ToolContext
from oscal_mcp.tools.hints import read_only

Layer = Literal["control", "implementation", "assessment"]


@dataclass(frozen=True)
class OscalModel:
    name: str
    layer: Layer
    formal_name: str
    short_name: str
    description: str
    introduced_in: str
    trestle_module: str
    trestle_class: str
    status: str = "released"

    @property
    def root_key(self) -> str:
        """The JSON/YAML root key; in OSCAL it is the model name itself."""
        return self.name


MODELS: tuple[OscalModel, ...] = (
    OscalModel(
        name="catalog",
        layer="control",
        formal_name="OSCAL Control Catalog Model",
        short_name="oscal-catalog",
        description=(
            "A structured, machine-readable collection of controls (such as NIST SP 800-53), organized in "
            "groups, with statements, guidance, parameters and assessment objectives. Every other OSCAL "
            "model ultimately refers to controls defined in a catalog."
        ),
        introduced_in="1.0.0",
        trestle_module="trestle.oscal.catalog",
        trestle_class="Catalog",
    ),
    OscalModel(
        name="profile",
        layer="control",
        formal_name="OSCAL Profile Model",
        short_name="oscal-profile",
        description=(
            "A baseline or overlay: selects controls from one or more catalogs or other profiles and tailors "
            "them (sets parameter values, adds or alters parts). Resolving a profile yields a catalog of just "
            "the selected, tailored controls; the SP 800-53 low/moderate/high baselines are profiles."
        ),
        introduced_in="1.0.0",
        trestle_module="trestle.oscal.profile",
        trestle_class="Profile",
    ),
    OscalModel(
        name="mapping-collection",
        layer="control",
        formal_name="OSCAL Control Mapping Model",
        short_name="oscal-mapping",
        description=(
            "Declares relationships (equivalent, subset, superset, intersects...) between controls or "
            "control statements of a source and a target catalog or profile, with provenance and "
            "confidence, e.g. how CIS Controls map to NIST SP 800-53. Added in OSCAL 1.2.0."
        ),
        introduced_in="1.2.0",
        trestle_module="trestle.oscal.mapping",
        trestle_class="MappingCollection",
    ),
    OscalModel(
        name="component-definition",
        layer="implementation",
        formal_name="OSCAL Component Definition Model",
        short_name="oscal-component-definition",
        description=(
            "Written by a supplier (vendor, service owner, policy author): describes components (software, "
            "hardware, services, policies, processes...) and capabilities, and how each can implement "
            "controls, so system owners can reuse those statements in their SSPs."
        ),
        introduced_in="1.0.0",
        trestle_module="trestle.oscal.component",
        trestle_class="ComponentDefinition",
    ),
    OscalModel(
        name="system-security-plan",
        layer="implementation",
        formal_name="OSCAL System Security Plan (SSP) Model",
        short_name="oscal-ssp",
        description=(
            "Describes one information system: its characteristics, authorization boundary, components, "
            "users and inventory, the profile (baseline) it imports, and how each required control is "
            "implemented and by which component. The core document of an authorization package."
        ),
        introduced_in="1.0.0",
        trestle_module="trestle.oscal.ssp",
        trestle_class="SystemSecurityPlan",
    ),
    OscalModel(
        name="assessment-plan",
        layer="assessment",
        formal_name="OSCAL Assessment Plan Model",
        short_name="oscal-ap",
        description=(
            "The Security Assessment Plan (SAP): what an assessor will assess in a system described by an "
            "SSP, by which methods, activities and tasks, on what schedule and under which terms and "
            "conditions."
        ),
        introduced_in="1.0.0",
        trestle_module="trestle.oscal.assessment_plan",
        trestle_class="AssessmentPlan",
    ),
    OscalModel(
        name="assessment-results",
        layer="assessment",
        formal_name="OSCAL Assessment Results Model",
        short_name="oscal-ar",
        description=(
            "The Security Assessment Results (SAR): observations, findings and identified risks produced by "
            "an assessment of a system, for one-time assessments and continuous monitoring alike, linked "
            "back to the plan that was carried out."
        ),
        introduced_in="1.0.0",
        trestle_module="trestle.oscal.assessment_results",
        trestle_class="AssessmentResults",
    ),
    OscalModel(
        name="plan-of-action-and-milestones",
        layer="assessment",
        formal_name="OSCAL Plan of Action and Milestones (POA&M) Model",
        short_name="oscal-poam",
        description=(
            "The POA&M: the known weaknesses and risks of a system and the planned remediation, with "
            "milestones, deviations and their current status; updated as findings are closed or accepted."
        ),
        introduced_in="1.0.0",
        trestle_module="trestle.oscal.poam",
        trestle_class="PlanOfActionAndMilestones",
    ),
)

MODEL_NAMES: tuple[str, ...] = tuple(model.name for model in MODELS)
_BY_NAME = {model.name: model for model in MODELS}
# Common ways people and assistants name the models; accepted as input, never returned.
ALIASES: dict[str, str] = {
    "mapping": "mapping-collection",
    "control-mapping": "mapping-collection",
    "component": "component-definition",
    "compdef": "component-definition",
    "ssp": "system-security-plan",
    "ap": "assessment-plan",
    "sap": "assessment-plan",
    "ar": "assessment-results",
    "sar": "assessment-results",
    "poam": "plan-of-action-and-milestones",
    "poa&m": "plan-of-action-and-milestones",
}


def enum_extra(values: tuple[str, ...], *, optional: bool = False) -> dict[str, Any]:
    """``json_schema_extra`` that lists a ``str`` parameter's accepted values as a JSON Schema enum.

    Parameters stay plain ``str`` (not ``Literal``) so a wrong value reaches the tool, which answers
    with the list of valid values (and accepts aliases such as ``ssp`` or ``poam``) instead of a
    pydantic error. `optional` adds ``null`` for parameters that default to None.
    """
    return {"enum": [*values, None] if optional else list(values)}


class UnknownModelError(ValueError):
    """A model name that is not one of the eight OSCAL models; the message lists the valid names."""

    def __init__(self, raw: str) -> None:
        super().__init__(f"unknown OSCAL model {raw!r}; use one of: {', '.join(MODEL_NAMES)}")


def normalize_model_name(raw: str) -> str:
    key = raw.strip().lower().replace("_", "-").replace(" ", "-")
    return ALIASES.get(key, key)


def get_model(raw: str) -> OscalModel:
    """The model named `raw` (case, ``_`` and common aliases tolerated); UnknownModelError otherwise."""
    model = _BY_NAME.get(normalize_model_name(raw))
    if model is None:
        raise UnknownModelError(raw)
    return model


def by_root_key(key: str) -> OscalModel | None:
    return _BY_NAME.get(key)


@cache
def trestle_class(name: str) -> type[BaseModel]:
    """The compliance-trestle pydantic class of the model's inner object (e.g. ``Catalog``)."""
    model = _BY_NAME[name]
    cls: type[BaseModel] = getattr(importlib.import_module(model.trestle_module), model.trestle_class)
    return cls


@cache
def trestle_root_class(name: str) -> type[BaseModel]:
    """The trestle wrapper class whose only field is the root key (trestle names it ``Model``)."""
    cls: type[BaseModel] = importlib.import_module(_BY_NAME[name].trestle_module).Model
    return cls


def oscal_version() -> str:
    """The OSCAL version of the bundled trestle models (not a literal of ours)."""
    from trestle.oscal import OSCAL_VERSION

    return str(OSCAL_VERSION)


class OscalModelInfo(BaseModel):
    name: str = Field(description="The model name, which is also the document's root JSON/YAML key.")
    root_key: str
    layer: Layer
    formal_name: str
    short_name: str
    status: str
    introduced_in: str = Field(description="The OSCAL version that introduced the model.")
    description: str


class OscalModelList(BaseModel):
    oscal_version: str = Field(description="The OSCAL version of the models this server validates against.")
    layers: dict[str, str]
    models: list[OscalModelInfo]


LAYERS: dict[str, str] = {
    "control": "Controls and baselines: what must be done (catalog, profile, mapping-collection).",
    "implementation": "How systems and components implement controls (component-definition, system-security-plan).",
    "assessment": "Whether controls work and what to fix (assessment-plan, assessment-results, POA&M).",
}


def list_models() -> OscalModelList:
    infos = [OscalModelInfo.model_validate(model, from_attributes=True) for model in MODELS]
    return OscalModelList(oscal_version=oscal_version(), layers=LAYERS, models=infos)


def register(server: MCPServer[Any], context: ToolContext) -> None:
    def list_oscal_models() -> OscalModelList:
        """List the eight OSCAL models this server knows, grouped in three layers (control,
        implementation, assessment). For each: the model name (also the document's root JSON key,
        e.g. "system-security-plan"), formal and short names, status, the OSCAL version that
        introduced it and a one-paragraph description. Use it to pick the right model before calling
        get_oscal_schema or validate_oscal_content, or to explain how the models relate."""
        return list_models()

    server.add_tool(list_oscal_models, name="list_oscal_models", title="List the OSCAL models", annotations=read_only())
