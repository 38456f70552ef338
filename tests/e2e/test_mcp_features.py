"""MCP beyond tools, driven by the official Python MCP SDK over stdio against the DefectDojo double:
elicitation before destructive and bulk changes, progress during imports, logging after
logging/setLevel, resources by URI and prompts."""
import json

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import ElicitResult

from conftest import BINARY, base_env
from test_mcp_clients import HAPPY, text_of


async def session_with(dojo, body, env=None, **callbacks):
    params = StdioServerParameters(command=str(BINARY), args=[], env={**base_env(dojo.url), **(env or {})})
    async with stdio_client(params) as (r, w):
        async with ClientSession(r, w, **callbacks) as session:
            await session.initialize()
            return await body(session)


def elicitation(answer):
    """An elicitation callback that records the question and answers `answer`."""
    asked = []

    async def callback(context, params):
        asked.append(params.message)
        if answer == "accept":
            return ElicitResult(action="accept", content={"confirm": True})
        return ElicitResult(action=answer)

    return asked, callback


def test_a_destructive_change_runs_only_when_confirmed(dojo):
    asked, accept = elicitation("accept")
    result = anyio.run(lambda: session_with(
        dojo, lambda s: s.call_tool("close_finding", HAPPY["close_finding"][0]), elicitation_callback=accept))
    assert not result.isError, text_of(result)
    assert len(asked) == 1 and "close_finding" in asked[0] and "555" in asked[0]
    assert [(r["method"], r["path"]) for r in dojo.writes()] == HAPPY["close_finding"][1]


def test_a_declined_change_changes_nothing(dojo):
    for answer in ("decline", "cancel"):
        asked, refuse = elicitation(answer)
        result = anyio.run(lambda: session_with(
            dojo, lambda s: s.call_tool("bulk_close_findings", {"finding_ids": [555, 556], "reason": "mitigated",
                                                                "dry_run": False}),
            elicitation_callback=refuse))
        assert result.isError and "not confirmed" in text_of(result)
        assert "2 findings" in asked[0]
    assert dojo.writes() == []


def test_reads_and_plain_writes_ask_nothing(dojo):
    asked, accept = elicitation("accept")

    async def body(s):
        return [await s.call_tool(t, HAPPY[t][0]) for t in ("get_finding", "add_finding_note")]

    results = anyio.run(lambda: session_with(dojo, body, elicitation_callback=accept))
    assert all(not r.isError for r in results)
    assert asked == []


def test_imports_report_progress(dojo):
    updates = []

    async def progress(done, total, message):
        updates.append((done, total, message))

    async def body(s):
        return await s.call_tool("import_scan", HAPPY["import_scan"][0], progress_callback=progress)

    result = anyio.run(lambda: session_with(dojo, body))
    assert not result.isError, text_of(result)
    assert len(updates) >= 3
    done = [u[0] for u in updates]
    assert done == sorted(done) and updates[-1][0] == updates[-1][1]


def test_logging_after_set_level(dojo):
    messages = []

    async def logged(params):
        messages.append((params.level, params.data))

    async def body(s):
        await s.call_tool("get_finding", {"finding_id": 1})
        await s.set_logging_level("info")
        await s.call_tool("get_finding", {"finding_id": 1})
        await s.call_tool("get_finding", {"finding_id": 999999})
        await s.send_ping()  # the notifications arrive before the ping's answer
        return None

    anyio.run(lambda: session_with(dojo, body, logging_callback=logged))
    assert messages == [("info", "get_finding: done"), ("warning", "get_finding: failed")]


def test_resources_and_prompts(dojo):
    async def body(s):
        templates = await s.list_resource_templates()
        finding = await s.read_resource("defectdojo://finding/1")
        try:
            await s.read_resource("defectdojo://finding/999999")
            missing = None
        except Exception as e:  # the SDK raises McpError
            missing = str(e)
        prompts = await s.list_prompts()
        prompt = await s.get_prompt("sast_review", {"test_id": "1"})
        return templates, finding, missing, prompts, prompt

    templates, finding, missing, prompts, prompt = anyio.run(lambda: session_with(dojo, body))
    assert len(templates.resourceTemplates) == 4
    content = json.loads(finding.contents[0].text)
    assert content["id"] == 1 and content["title"]["value"] == dojo.fixtures["finding_get"]["response"]["title"]
    assert missing and "not found" in missing
    assert {p.name for p in prompts.prompts} == {"triage_finding", "security_landscape", "sast_review",
                                                 "import_report"}
    assert "test 1" in prompt.messages[0].content.text
    assert dojo.writes() == []


def test_prompts_and_resources_follow_the_selection(dojo):
    async def body(s):
        prompts = {p.name for p in (await s.list_prompts()).prompts}
        try:
            await s.get_prompt("import_report", {"scan_type": "ZAP Scan", "product_name": "p",
                                                 "engagement_name": "e"})
            refused = None
        except Exception as e:  # the SDK raises McpError
            refused = str(e)
        templates = (await s.list_resource_templates()).resourceTemplates
        return prompts, refused, templates

    prompts, refused, templates = anyio.run(lambda: session_with(dojo, body, env={"MCP_READ_ONLY": "true"}))
    assert prompts == {"triage_finding", "security_landscape", "sast_review"}, "import_report names import_scan"
    assert refused and "unknown prompt" in refused
    assert len(templates) == 4, "resources read through get_ tools, which read-only keeps"

    only_findings = anyio.run(lambda: session_with(
        dojo, lambda s: s.list_resource_templates(), env={"MCP_TOOLSETS": "findings"}))
    assert [t.name for t in only_findings.resourceTemplates] == ["finding"]
