"""The official MCP conformance suite (@modelcontextprotocol/conformance, installed by scripts/test
beside the Inspector) against the built server over streamable HTTP, for the scenarios a DefectDojo
server can meet today; and the official Python client's session close, which must not be refused.

The suite speaks to localhost servers without authentication (its DNS-rebinding scenario is about
exactly those), so the server runs with REQUIRE_AUTH=false on 127.0.0.1."""
import logging
import os
import pathlib
import subprocess

import anyio
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

from conftest import TOKENS, start_server, stop_server

INSPECTOR_DIR = os.environ.get("MCP_INSPECTOR_DIR")
if not INSPECTOR_DIR and os.environ.get("MCP_INSPECTOR_SKIP") == "1":
    pytest.skip("MCP_INSPECTOR_SKIP=1", allow_module_level=True)

# Every scenario that applies to a DefectDojo server. The others call fixtures of the suite's own
# reference server (tools named test_*, resources under test://, prompts named test_*), sampling
# or elicitation tools, or resource subscriptions; the README lists them and why.
SCENARIOS = [
    "server-initialize",
    "ping",
    "logging-set-level",
    "completion-complete",
    "tools-list",
    "resources-list",
    "prompts-list",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
]


def conformance(url, scenario):
    assert INSPECTOR_DIR, "MCP_INSPECTOR_DIR is not set: run ./scripts/test, which installs the suite"
    modules = pathlib.Path(INSPECTOR_DIR) / "node_modules"
    cli = modules / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
    node = modules / "node" / "bin" / "node"
    return subprocess.run([str(node), str(cli), "server", "--url", url, "--scenario", scenario],
                          capture_output=True, text=True, timeout=180, env={**os.environ, "NO_COLOR": "1"})


@pytest.fixture
def open_server(dojo, tmp_path, monkeypatch):
    monkeypatch.setenv("REQUIRE_AUTH", "false")
    server = start_server(dojo, tmp_path, "streamable-http", tokens=False)
    yield server
    stop_server(server)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_conformance_scenario(open_server, scenario):
    run = conformance(open_server["url"], scenario)
    assert run.returncode == 0, run.stdout + run.stderr
    assert " 0 failed" in run.stdout, run.stdout


def test_python_client_closes_its_session_without_complaint(http_server, caplog):
    async def session():
        headers = {"Authorization": f"Bearer {TOKENS['reader']}"}
        async with streamablehttp_client(http_server["url"], headers=headers) as (r, w, _):
            async with ClientSession(r, w) as s:
                await s.initialize()
                await s.list_tools()

    with caplog.at_level(logging.WARNING):
        anyio.run(session)
    complaints = [r.getMessage() for r in caplog.records if "termination" in r.getMessage().lower()]
    assert complaints == [], complaints
