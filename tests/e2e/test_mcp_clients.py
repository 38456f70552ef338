"""End-to-end: the built server driven by the official Python MCP SDK over stdio and streamable HTTP,
against a DefectDojo double that answers with recorded exchanges."""
import base64
import hashlib
import hmac
import json
import pathlib

import anyio
import httpx
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client

from conftest import BINARY, TOKENS, base_env

ROOT = pathlib.Path(__file__).resolve().parents[2]
SEED_TOOLS = json.loads((ROOT / "tests" / "e2e" / "seed-tools-list.json").read_text())
SEED_TOOLS = SEED_TOOLS.get("tools", SEED_TOOLS)
ZAP = base64.b64encode((ROOT / "dojo-sdk/tests/fixtures/scans/zap-0_zap_sample.xml").read_bytes()).decode()

# The cases are shared with the Rust end-to-end tests (tests/e2e_rmcp.rs).
CASES = json.loads((ROOT / "tests" / "e2e" / "cases.json").read_text().replace("$ZAP_BASE64", ZAP))
# One happy-path call per tool, and the write it must send to DefectDojo (method, path) if any.
def expected_writes(write):
    """A case's writes, in order: none, one (method, path), or a list of them."""
    if not write:
        return []
    return [(w["method"], w["path"]) for w in (write if isinstance(write, list) else [write])]


HAPPY = {t: (c["arguments"], expected_writes(c["write"])) for t, c in CASES["happy"].items()}
# One failure per tool: bad arguments that must never reach DefectDojo, or a DefectDojo refusal.
FAILING = {t: c["arguments"] for t, c in CASES["failing"].items()}
PERMISSION = CASES["permissions"]
ROLE_GROUPS = {role: set(groups) for role, groups in CASES["role_groups"].items()}


def permission(tool):
    return PERMISSION.get(tool, "metadata_read")


def stdio_params(dojo):
    return StdioServerParameters(command=str(BINARY), args=[], env=base_env(dojo.url))


async def with_stdio(dojo, body):
    async with stdio_client(stdio_params(dojo)) as (r, w):
        async with ClientSession(r, w) as session:
            await session.initialize()
            return await body(session)


async def with_http(url, token, body):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with streamablehttp_client(url, headers=headers) as (r, w, _):
        async with ClientSession(r, w) as session:
            await session.initialize()
            return await body(session)


def text_of(result):
    return "".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def test_tools_list_matches_the_seed_names_and_arguments(dojo):
    async def body(session):
        return (await session.list_tools()).tools

    # The default toolsets: the Python server's 24 tools.
    params = StdioServerParameters(command=str(BINARY), args=[], env={**base_env(dojo.url), "MCP_TOOLSETS": "default"})

    async def default_server():
        async with stdio_client(params) as (r, w):
            async with ClientSession(r, w) as session:
                await session.initialize()
                return await body(session)

    tools = anyio.run(default_server)
    ours = {t.name: t for t in tools}
    assert sorted(ours) == sorted(t["name"] for t in SEED_TOOLS)
    for seed in SEED_TOOLS:
        mine = ours[seed["name"]]
        seed_args = set(seed["inputSchema"].get("properties", {}))
        assert seed_args <= set(mine.inputSchema.get("properties", {})), seed["name"]
        seed_required = set(seed["inputSchema"].get("required", []))
        mine_required = set(mine.inputSchema.get("required", []))
        # `file` may be replaced by `file_path` on import/reimport; nothing else is optional that was required.
        assert mine_required <= seed_required and seed_required - mine_required <= {"file"}, seed["name"]
        assert mine.annotations is not None and mine.title, seed["name"]
        assert mine.outputSchema is not None, seed["name"]
        assert mine.inputSchema.get("additionalProperties") is False, seed["name"]


@pytest.mark.parametrize("tool", sorted(HAPPY))
def test_every_tool_happy_path_over_stdio(dojo, tool):
    args, write = HAPPY[tool]

    async def body(session):
        return await session.call_tool(tool, args)

    result = anyio.run(with_stdio, dojo, body)
    assert not result.isError, text_of(result)
    payload = json.loads(text_of(result))
    if tool == "health_check":
        assert payload["status"] == "ok"
    assert [(r["method"], r["path"]) for r in dojo.writes()] == write
    assert result.structuredContent == payload


@pytest.mark.parametrize("tool", sorted(FAILING))
def test_every_tool_failure_path_over_stdio(dojo, tool):
    async def body(session):
        return await session.call_tool(tool, FAILING[tool])

    result = anyio.run(with_stdio, dojo, body)
    assert result.isError, text_of(result)
    message = text_of(result)
    assert message and "Traceback" not in message
    assert dojo.writes() == [], "a refused call must change nothing"
    if not CASES["failing"][tool]["reaches_defectdojo"]:
        assert [r for r in dojo.requests if r["path"] != "/api/v2/user_profile/"] == [], "bad input reached DefectDojo"
    else:
        assert message.startswith("not found")


def test_read_results_wrap_untrusted_text(dojo):
    async def body(session):
        return await session.call_tool("get_finding", {"finding_id": 1})

    payload = json.loads(text_of(anyio.run(with_stdio, dojo, body)))
    assert payload["title"]["_warning"].startswith("untrusted-content")
    assert payload["title"]["value"] == dojo.fixtures["finding_get"]["response"]["title"]


@pytest.mark.parametrize("role", ["admin", "writer", "scanner", "reader", None])
def test_role_matrix_over_http(dojo, http_server, role):
    token = TOKENS.get(role) if role else None
    if token is None:
        r = httpx.post(http_server["url"], json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                       headers={"accept": "application/json, text/event-stream"})
        assert r.status_code == 401
        r = httpx.post(http_server["url"], json={}, headers={"Authorization": "Bearer wrong-token-0123456789"})
        assert r.status_code == 401 and r.text == "unauthorized"
        return

    async def body(session):
        out = {}
        for tool, (args, _) in HAPPY.items():
            out[tool] = await session.call_tool(tool, args)
        return out

    results = anyio.run(with_http, http_server["url"], token, body)
    for tool, result in results.items():
        allowed = permission(tool) in ROLE_GROUPS[role]
        if allowed:
            assert not result.isError, f"{role} {tool}: {text_of(result)}"
        else:
            assert result.isError and "permission denied" in text_of(result), f"{role} {tool}"
    writes_expected = sum(len(w) for t, (_, w) in HAPPY.items() if permission(t) in ROLE_GROUPS[role])
    assert len(dojo.writes()) == writes_expected


def test_bad_origin_is_refused(http_server):
    r = httpx.post(http_server["url"], json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                   headers={"Authorization": f"Bearer {TOKENS['admin']}", "Origin": "https://evil.example",
                            "accept": "application/json, text/event-stream"})
    assert r.status_code == 403


def test_audit_chain_over_http(dojo, http_server):
    async def body(session):
        await session.call_tool("get_finding", {"finding_id": 1})
        await session.call_tool("close_finding", {"finding_id": 555, "reason": "mitigated"},
                                meta={"client_id": "e2e-client"})
        await session.call_tool("create_product", {"name": "x", "description": "y", "prod_type_id": 1})

    anyio.run(with_http, http_server["url"], TOKENS["writer"], body)
    records = [json.loads(l) for l in http_server["audit"].read_text().splitlines() if l.strip()]
    assert records[0]["event_type"] == "lifecycle" and records[0]["detail"]["chain_event"] == "chain_start"
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    lines = records[1:]
    assert [l["tool"] for l in lines] == ["get_finding", "close_finding", "create_product"]
    assert lines[0]["caller_id"] == "anonymous", "no _meta.client_id: 'anonymous', as the Python server"
    assert lines[1]["findings_read_before_mutation"] == [1]
    assert lines[1]["caller_id"] == "e2e-client" and lines[1]["authenticated_caller_id"] == "writer"
    assert lines[2]["outcome"] == "denied" and lines[2]["authenticated_caller_id"] == "writer"
    prev = ""
    for line in http_server["audit"].read_text().splitlines():
        record = json.loads(line)
        mac = record.pop("integrity_hmac")
        assert record["prev_hmac"] == prev
        # The canonical bytes: the line without its trailing integrity_hmac field (README, "Audit trail").
        body_json = line[: line.rindex(',"integrity_hmac"')] + "}"
        expect = hmac.new(b"e2e-audit-key-0123456789abcdef", (prev + "|" + body_json).encode(), hashlib.sha256).hexdigest()
        assert mac == expect
        prev = mac
