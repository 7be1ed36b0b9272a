"""`list_oscal_models`: the eight OSCAL models, from the registry in `oscal_mcp.oscal.models`."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

from oscal_mcp.oscal.lazy import Once
from oscal_mcp.oscal.models import LAYERS, MODELS, Layer, trestle_oscal_version
from oscal_mcp.oscal.schemas import bundled_versions, newest_version
from oscal_mcp.tools.context import ToolContext
from oscal_mcp.tools.hints import read_only


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
    oscal_version: str = Field(description="The newest OSCAL release whose NIST schemas are bundled (the default).")
    oscal_schema_versions: list[str] = Field(description="Every OSCAL release whose NIST schemas are bundled.")
    model_oscal_version: str = Field(description="The OSCAL version compliance-trestle's models follow (model level).")
    layers: dict[str, str]
    models: list[OscalModelInfo]


def list_models() -> OscalModelList:
    """Constant for the life of the process, so built once (`MODEL_LIST`)."""
    infos = [OscalModelInfo.model_validate(model, from_attributes=True) for model in MODELS]
    return OscalModelList(
        oscal_version=newest_version(),
        oscal_schema_versions=list(bundled_versions()),
        model_oscal_version=trestle_oscal_version(),
        layers=LAYERS,
        models=infos,
    )


MODEL_LIST = Once(list_models)


def register(server: MCPServer[Any], context: ToolContext) -> None:
    async def list_oscal_models() -> OscalModelList:
        """List the eight OSCAL models this server knows, grouped in three layers (control,
        implementation, assessment). For each: the model name (also the document's root JSON key,
        e.g. "system-security-plan"), formal and short names, status, the OSCAL version that
        introduced it and a one-paragraph description; plus the OSCAL releases whose NIST schemas
        are bundled. Use it to pick the right model before calling get_oscal_schema or
        validate_oscal_content, or to explain how the models relate."""
        return await MODEL_LIST.aget()  # built once, off the event loop (it reads the content manifest)

    server.add_tool(list_oscal_models, name="list_oscal_models", title="List the OSCAL models", annotations=read_only())
