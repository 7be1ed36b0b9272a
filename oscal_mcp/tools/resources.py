"""`list_oscal_resources`: a curated list of community OSCAL resources, bundled with the server.

The list (``oscal_mcp/content/resources.json``) is written by this project from public facts: names,
URLs and one-line descriptions of NIST's OSCAL site and repositories, SDKs, tools, official content
and learning material. It is covered by the content manifest and read without network access.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from anyio import to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from oscal_mcp.content import BundledContentError, read_bundled
from oscal_mcp.oscal.lazy import Once
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


@dataclass(frozen=True)
class BundledResources:
    resources: list[OscalResource]
    listings: dict[str | None, ResourceList]  # the tool's answer for no topic and for every topic


def load_catalog() -> BundledResources:
    """The bundled list, parsed and checked against the content manifest, with every answer built."""
    resources = ResourceCatalog.model_validate(json.loads(read_bundled(RESOURCES_FILE))).resources
    listings = {topic: _listing(resources, topic) for topic in (None, *TOPICS)}
    return BundledResources(resources, listings)


def _listing(resources: list[OscalResource], topic: str | None) -> ResourceList:
    shown = resources if topic is None else [r for r in resources if topic in r.topics]
    return ResourceList(topic=topic, topics=list(TOPICS), total=len(shown), resources=shown, note=NOTE)


CATALOG = Once(load_catalog)  # read once; a read that fails its integrity check is not kept


def catalog() -> BundledResources:
    return CATALOG.get()


def checked_catalog() -> BundledResources:
    """The bundled list, or a ToolError when it fails its integrity check (never a partial list)."""
    try:
        return CATALOG.get()
    except BundledContentError as exc:
        raise ToolError(
            f"the bundled resource list failed its integrity check ({exc}); it is not served. "
            "Ask the operator to reinstall oscal-mcp from a trusted source"
        ) from None


def list_resources(topic: str | None) -> ResourceList:
    """The answer for `topic` (None: all), or a ToolError naming the known topics."""
    wanted = topic.strip().lower() if topic else None
    if wanted and wanted not in TOPICS:
        shown = clip((topic or "").strip(), 60)
        raise ToolError(f"unknown topic {shown!r}; use one of: {', '.join(TOPICS)} (or omit it for all)")
    return checked_catalog().listings[wanted or None]


def register(server: MCPServer[Any], context: ToolContext) -> None:
    async def list_oscal_resources(
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
        if CATALOG.built:  # every answer is built: no work left for a worker thread
            return list_resources(topic)
        return await to_thread.run_sync(list_resources, topic)  # the first read of the file

    server.add_tool(
        list_oscal_resources, name="list_oscal_resources", title="List OSCAL resources", annotations=read_only()
    )
