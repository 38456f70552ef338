"""The legacy 2024-11-05 HTTP+SSE transport, driven by the official Python MCP SDK's SSE client."""
import json

import anyio
import httpx
from mcp import ClientSession
from mcp.client.sse import sse_client

from conftest import TOKENS
from test_mcp_clients import FAILING, HAPPY, permission, ROLE_GROUPS, text_of


async def with_sse(url, token, body):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with sse_client(url, headers=headers) as (r, w):
        async with ClientSession(r, w) as session:
            await session.initialize()
            return await body(session)


def test_every_tool_over_sse_as_admin(dojo, sse_server):
    async def body(session):
        tools = (await session.list_tools()).tools
        results = {tool: await session.call_tool(tool, args) for tool, (args, _) in HAPPY.items()}
        failures = {tool: await session.call_tool(tool, args) for tool, args in FAILING.items()}
        return tools, results, failures

    tools, results, failures = anyio.run(with_sse, sse_server["url"], TOKENS["admin"], body)
    assert sorted(t.name for t in tools) == sorted(HAPPY)
    for tool, result in results.items():
        assert not result.isError, f"{tool}: {text_of(result)}"
        assert result.structuredContent == json.loads(text_of(result))
    for tool, result in failures.items():
        assert result.isError, tool
    expected_writes = [one for _, (_, w) in sorted(HAPPY.items()) for one in w]
    assert sorted((r["method"], r["path"]) for r in dojo.writes()) == sorted(expected_writes)


def test_roles_apply_over_sse(dojo, sse_server):
    async def body(session):
        return {tool: await session.call_tool(tool, args) for tool, (args, _) in HAPPY.items()}

    results = anyio.run(with_sse, sse_server["url"], TOKENS["reader"], body)
    for tool, result in results.items():
        allowed = permission(tool) in ROLE_GROUPS["reader"]
        assert bool(result.isError) != allowed, tool
    assert dojo.writes() == []


def test_sse_needs_a_token_and_a_session_is_bound_to_its_caller(sse_server):
    assert httpx.get(sse_server["url"]).status_code == 401
    admin = {"Authorization": f"Bearer {TOKENS['admin']}"}
    with httpx.Client(timeout=10) as client:
        with client.stream("GET", sse_server["url"], headers=admin) as stream:
            lines = stream.iter_lines()
            assert next(lines) == "event: endpoint"
            endpoint = next(lines).removeprefix("data: ")
            assert endpoint.startswith("/messages?session_id=")
            ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
            url = sse_server["base"] + endpoint
            # Another caller's token cannot use this session; nor can a guessed id.
            reader = {"Authorization": f"Bearer {TOKENS['reader']}"}
            assert httpx.post(url, json=ping, headers=reader).status_code == 404
            assert httpx.post(sse_server["base"] + "/messages?session_id=00", json=ping, headers=admin).status_code == 404
            assert httpx.post(url, content=b"{not json", headers={**admin, "content-type": "application/json"}).status_code in (400, 422)
            assert httpx.post(url, json=ping, headers={**admin, "Origin": "https://evil.example"}).status_code == 403
            assert httpx.post(url, json=ping, headers=admin).status_code == 202
