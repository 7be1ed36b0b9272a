"""`list_oscal_resources`: a curated list of community OSCAL resources, bundled with the server.

The list (``oscal_mcp/content/resources.json``) is written by this project from public facts: names,
URLs and one-line descriptions of NIST's OSCAL site and repositories, SDKs, tools, official content
and learning material. It is covered by the content manifest and read without network access.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from oscal_mcp.content import BundledContentError, read_bundled
from oscal_mcp.oscal.text import clip
from oscal_mcp.tools.context import ToolContext
from oscal_mcp.tools.hints import read_only
from oscal_mcp.tools.params import enum_extra

RESOURCES_FILE = "resources.json"
TOPICS: tuple[str, ...] = (
    "catalogs",
    "profiles",
    "component-definitions",
    "schemas",
    "tools",
    "sdks",
    "validation",
    "learning",
    "community",
    "fedramp",
    "converters",
)


class OscalResource(BaseModel):
    name: str
    url: str
    maintainer: str
    topics: list[str]
    description: str


class ResourceCatalog(BaseModel):
    topics: list[str]
    resources: list[OscalResource]


class ResourceList(BaseModel):
    topic: str | None = Field(description="The topic filtered on, or null for every resource.")
    topics: list[str] = Field(description="Every topic, for a follow-up call.")
    total: int
    resources: list[OscalResource]
    note: str


NOTE = (
    "Curated by the oscal-mcp project from public sources; links are not fetched or checked at run time. "
    "NIST's OSCAL site (https://pages.nist.gov/OSCAL/) is the authoritative reference."
)


@cache
def catalog() -> ResourceCatalog:
    """The bundled list, parsed once (checked against the content manifest on that read)."""
    return ResourceCatalog.model_validate(json.loads(read_bundled(RESOURCES_FILE)))


def checked_catalog() -> ResourceCatalog:
    """The bundled list, or a ToolError when it fails its integrity check (never a partial list)."""
    try:
        return catalog()
    except BundledContentError as exc:
        raise ToolError(
            f"the bundled resource list failed its integrity check ({exc}); it is not served. "
            "Ask the operator to reinstall oscal-mcp from a trusted source"
        ) from None


def list_resources(topic: str | None) -> ResourceList:
    resources = checked_catalog().resources
    wanted = topic.strip().lower() if topic else None
    if wanted:
        if wanted not in TOPICS:
            shown = clip((topic or "").strip(), 60)
            raise ToolError(f"unknown topic {shown!r}; use one of: {', '.join(TOPICS)} (or omit it for all)")
        resources = [r for r in resources if wanted in r.topics]
    return ResourceList(topic=wanted or None, topics=list(TOPICS), total=len(resources), resources=resources, note=NOTE)


def register(server: MCPServer[Any], context: ToolContext) -> None:
    def list_oscal_resources(
        topic: Annotated[
            str | None,
            Field(
                description="Only resources on this topic; omit for all.",
                json_schema_extra=enum_extra(TOPICS, optional=True),
            ),
        ] = None,
    ) -> ResourceList:
        """List curated community OSCAL resources (name, URL, maintainer, topics, one-line
        description): official catalogs and baselines (NIST SP 800-53, FedRAMP), schemas, tools such
        as oscal-cli and compliance-trestle, SDKs in Python, Java and Go, validation aids and learning
        material, FedRAMP content and converters between formats. Filter with topic (catalogs, profiles,
        component-definitions, schemas, tools, sdks, validation, learning, community, fedramp,
        converters). Use it to point a user at where to get or learn something;
        the list is bundled with the server, so it makes no network calls."""
        return list_resources(topic)

    server.add_tool(
        list_oscal_resources, name="list_oscal_resources", title="List OSCAL resources", annotations=read_only()
    )
