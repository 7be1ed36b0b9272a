"""The one registry of the eight OSCAL models, used by every part of the domain and every tool.

Each model is known by one name (its JSON root key, e.g. ``system-security-plan``); the registry
maps it to its layer, formal and short names (from the NIST Metaschema sources), the stem of NIST's
schema files and the compliance-trestle pydantic class that validates it. Trestle is imported only
when a class is first needed, so listing models and ``oscal-mcp --help`` stay fast.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter

Layer = Literal["control", "implementation", "assessment"]


@dataclass(frozen=True)
class OscalModel:
    name: str
    layer: Layer
    formal_name: str
    short_name: str
    description: str
    introduced_in: str
    schema_stem: str  # NIST's file names: oscal_<stem>_schema.json / .xsd
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
        schema_stem="catalog",
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
        schema_stem="profile",
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
        schema_stem="mapping",
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
        schema_stem="component",
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
        schema_stem="ssp",
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
        schema_stem="assessment-plan",
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
        schema_stem="assessment-results",
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
        schema_stem="poam",
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
def trestle_adapter(name: str) -> TypeAdapter[Any]:
    """A validator of the model's inner object that reports pydantic's errors as they are.

    Trestle overrides ``model_validate`` and, when any error touches ``oscal-version``, replaces the
    whole error list by one ``TrestleError`` without a location. A TypeAdapter validates with the
    class's own schema without that override, so every error keeps its path.
    """
    return TypeAdapter(trestle_class(name))


@cache
def trestle_oscal_version() -> str:
    """The OSCAL version compliance-trestle's models follow (not a literal of ours)."""
    from trestle.oscal import OSCAL_VERSION

    return str(OSCAL_VERSION)


LAYERS: dict[str, str] = {
    "control": "Controls and baselines: what must be done (catalog, profile, mapping-collection).",
    "implementation": "How systems and components implement controls (component-definition, system-security-plan).",
    "assessment": "Whether controls work and what to fix (assessment-plan, assessment-results, POA&M).",
}
