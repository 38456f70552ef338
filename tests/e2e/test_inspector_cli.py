"""Interop with the MCP Inspector CLI (@modelcontextprotocol/inspector 2.x on Node 22), a client
nobody here wrote: tools/list with --strict (schema portability) and every tool's happy and failure
path over stdio, plus list and call over streamable HTTP and SSE.

scripts/test installs the Inspector and points MCP_INSPECTOR_DIR at it (node_modules/.bin and
node_modules/node/bin). Without it these tests fail, unless MCP_INSPECTOR_SKIP=1 says to skip."""
import json
import os
import pathlib
import subprocess

import pytest

from conftest import BINARY, TOKENS
from test_mcp_clients import FAILING, HAPPY, CASES

INSPECTOR_DIR = os.environ.get("MCP_INSPECTOR_DIR")
if not INSPECTOR_DIR and os.environ.get("MCP_INSPECTOR_SKIP") == "1":
    pytest.skip("MCP_INSPECTOR_SKIP=1", allow_module_level=True)

# The Inspector exits 5 when the tool answered isError:true.
TOOL_IS_ERROR = 5


def inspector(target, *args, env=None):
    assert INSPECTOR_DIR, "MCP_INSPECTOR_DIR is not set: run ./scripts/test, which installs the Inspector"
    modules = pathlib.Path(INSPECTOR_DIR) / "node_modules"
    path = f"{modules / 'node' / 'bin'}:{os.environ['PATH']}"
    cmd = [str(modules / ".bin" / "mcp-inspector"), "--cli", target]
    for key, value in (env or {}).items():
        cmd += ["-e", f"{key}={value}"]
    cmd += list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PATH": path, "NO_COLOR": "1"})


def stdio_env(dojo):
    return {"DEFECTDOJO_URL": dojo.url, "DEFECTDOJO_API_KEY": "dojo-test-key",
            "ALLOW_INSECURE_HTTP": "true", "LOG_LEVEL": "warn",
            "AUDIT_HMAC_KEY": "inspector-audit-key-0123456789", "MCP_TOOLSETS": "all"}


def tool_args(arguments):
    """--tool-arg pairs: strings as they are, everything else as JSON."""
    return [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in arguments.items()]


def call(target, tool, arguments, env=None, headers=()):
    args = ["--method", "tools/call", "--tool-name", tool]
    for h in headers:
        args += ["--header", h]
    if arguments:
        args += ["--tool-arg", *tool_args(arguments)]
    return inspector(target, *args, env=env)


def assert_strict_tools_list(result):
    assert result.returncode == 0, result.stderr[-2000:]
    tools = json.loads(result.stdout)["tools"]
    assert sorted(t["name"] for t in tools) == sorted(HAPPY)
    portability = [line for line in result.stderr.splitlines() if line.startswith(("Warning:", "Error:"))]
    assert portability == [], "\n".join(portability)


def test_strict_tools_list_over_stdio(dojo):
    assert_strict_tools_list(inspector(str(BINARY), "--method", "tools/list", "--strict", env=stdio_env(dojo)))


@pytest.mark.parametrize("tool", sorted(HAPPY))
def test_every_tool_happy_path_over_stdio(dojo, tool):
    arguments, write = HAPPY[tool]
    result = call(str(BINARY), tool, arguments, env=stdio_env(dojo))
    assert result.returncode == 0, f"{result.stdout[-1500:]}\n{result.stderr[-1500:]}"
    payload = json.loads(result.stdout)
    assert not payload.get("isError")
    assert payload["structuredContent"] == json.loads(payload["content"][0]["text"])
    assert [(r["method"], r["path"]) for r in dojo.writes()] == write


@pytest.mark.parametrize("tool", sorted(FAILING))
def test_every_tool_failure_path_over_stdio(dojo, tool):
    result = call(str(BINARY), tool, FAILING[tool], env=stdio_env(dojo))
    assert result.returncode == TOOL_IS_ERROR, f"{result.stdout[-1500:]}\n{result.stderr[-1500:]}"
    payload = json.loads(result.stdout)
    assert payload["isError"] is True and payload["content"][0]["text"]
    assert dojo.writes() == []
    if not CASES["failing"][tool]["reaches_defectdojo"]:
        assert [r for r in dojo.requests if r["path"] != "/api/v2/user_profile/"] == []


def test_streamable_http_list_and_calls(dojo, http_server):
    auth = f"Authorization: Bearer {TOKENS['writer']}"
    assert_strict_tools_list(inspector(http_server["url"], "--method", "tools/list", "--strict", "--header", auth))
    ok = call(http_server["url"], "get_finding", {"finding_id": 1}, headers=[auth])
    assert ok.returncode == 0, ok.stderr[-1500:]
    denied = call(http_server["url"], "create_product", HAPPY["create_product"][0],
                  headers=[f"Authorization: Bearer {TOKENS['reader']}"])
    assert denied.returncode == TOOL_IS_ERROR and "permission denied" in denied.stdout
    no_token = inspector(http_server["url"], "--method", "tools/list", "--stored-auth-only")
    assert no_token.returncode != 0
    assert dojo.writes() == []


def test_sse_list_and_calls(dojo, sse_server):
    auth = f"Authorization: Bearer {TOKENS['admin']}"
    assert_strict_tools_list(inspector(sse_server["url"], "--method", "tools/list", "--strict", "--header", auth))
    note = call(sse_server["url"], "add_finding_note", HAPPY["add_finding_note"][0], headers=[auth])
    assert note.returncode == 0, note.stderr[-1500:]
    assert [(r["method"], r["path"]) for r in dojo.writes()] == [("POST", "/api/v2/findings/555/notes/")]
