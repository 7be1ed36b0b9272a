"""Assessment-layer tools: assessment plan tasks and activities, assessment findings, POA&M items."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult

from oscal_mcp.tools.budget import PAGE_BYTES, DetailParam, MaxBytesParam
from oscal_mcp.tools.hints import read_only
from oscal_mcp.tools.params import OffsetParam
from oscal_mcp.tools.store_access import (
    DEFAULT_LIMIT,
    AssessmentPlanParam,
    AssessmentResultsParam,
    LimitParam,
    ObjectPage,
    PageRequest,
    PoamParam,
    StoreAccess,
    listed_objects,
)


def register(server: MCPServer[Any], access: StoreAccess) -> None:
    async def list_assessment_plan_tasks(
        assessment_plan: AssessmentPlanParam = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        detail: DetailParam = "summary",
        max_bytes: MaxBytesParam = PAGE_BYTES,
    ) -> Annotated[CallToolResult, ObjectPage]:
        """List the tasks of assessment plans (SAP): milestones and actions with their timing,
        dependencies, associated activities, subjects and responsible roles, each as a summary
        (id, title, short description; detail=full adds the whole OSCAL object, get_oscal_object
        returns one by its id)
        (sub-tasks listed too, with parent-task-uuid in context). Use it for "what will the
        assessor do, and when". Paginated."""
        page = PageRequest(offset=offset, limit=limit, detail=detail, max_bytes=max_bytes)
        return await listed_objects(access, "assessment-plan", assessment_plan, "task", page)

    async def list_assessment_plan_activities(
        assessment_plan: AssessmentPlanParam = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        detail: DetailParam = "summary",
        max_bytes: MaxBytesParam = PAGE_BYTES,
    ) -> Annotated[CallToolResult, ObjectPage]:
        """List the activities an assessment plan defines (local-definitions activities: the steps
        of an assessment method, e.g. examine the account management policy, and the controls
        each one covers) each as a summary
        (id, title, short description; detail=full adds the whole OSCAL object, get_oscal_object
        returns one by its id). Paginated."""
        page = PageRequest(offset=offset, limit=limit, detail=detail, max_bytes=max_bytes)
        return await listed_objects(access, "assessment-plan", assessment_plan, "activity", page)

    async def list_assessment_findings(
        assessment_results: AssessmentResultsParam = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        detail: DetailParam = "summary",
        max_bytes: MaxBytesParam = PAGE_BYTES,
    ) -> Annotated[CallToolResult, ObjectPage]:
        """List the findings of assessment results (SAR): each finding's target (control or
        objective) and its status (satisfied / not-satisfied), related observations and risks, each as a summary
        (id, title, short description; detail=full adds the whole OSCAL object, get_oscal_object
        returns one by its id), with the result it belongs to in context. Use it for "which controls
        failed the assessment". Paginated; search_oscal also finds observations and risks."""
        page = PageRequest(offset=offset, limit=limit, detail=detail, max_bytes=max_bytes)
        return await listed_objects(access, "assessment-results", assessment_results, "finding", page)

    async def list_poam_items(
        poam: PoamParam = None,
        limit: LimitParam = DEFAULT_LIMIT,
        offset: OffsetParam = 0,
        detail: DetailParam = "summary",
        max_bytes: MaxBytesParam = PAGE_BYTES,
    ) -> Annotated[CallToolResult, ObjectPage]:
        """List the items of plans of action and milestones (POA&M): each known weakness with its
        description, related findings, observations and risks, and remediation milestones, each as a summary
        (id, title, short description; detail=full adds the whole OSCAL object, get_oscal_object
        returns one by its id). Use it for "what is still open for this system". Paginated."""
        page = PageRequest(offset=offset, limit=limit, detail=detail, max_bytes=max_bytes)
        return await listed_objects(access, "plan-of-action-and-milestones", poam, "poam-item", page)

    tools = (
        (list_assessment_plan_tasks, "list_assessment_plan_tasks", "List assessment plan tasks"),
        (list_assessment_plan_activities, "list_assessment_plan_activities", "List assessment plan activities"),
        (list_assessment_findings, "list_assessment_findings", "List assessment findings"),
        (list_poam_items, "list_poam_items", "List POA&M items"),
    )
    for fn, tool_name, title in tools:
        server.add_tool(fn, name=tool_name, title=title, annotations=read_only())
