import os
import pathlib
import socket
import subprocess
import time

import pytest

from dojo_double import DojoDouble

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(os.environ.get("MCP_DEFECTDOJO_BIN", ROOT / "target" / "debug" / "mcp-defectdojo"))

TOKENS = {
    "admin": "admin-token-0123456789",
    "writer": "writer-token-0123456789",
    "scanner": "scanner-token-0123456789",
    "reader": "reader-token-0123456789",
}


@pytest.fixture
def dojo():
    double = DojoDouble()
    yield double
    double.close()


def base_env(dojo_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MCP_", "DEFECTDOJO_", "AUDIT_", "FASTMCP_"))}
    env.update({
        "DEFECTDOJO_URL": dojo_url,
        "DEFECTDOJO_API_KEY": "dojo-test-key",
        "ALLOW_INSECURE_HTTP": "true",
        "LOG_LEVEL": "warn",
        # Every toolset, so every tool's cases run; the seed comparison asks for the default.
        "MCP_TOOLSETS": "all",
    })
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(dojo, tmp_path, transport, tokens=True):
    port = free_port()
    env = base_env(dojo.url)
    env.update({
        "FASTMCP_TRANSPORT": transport,
        "FASTMCP_HOST": "127.0.0.1",
        "FASTMCP_PORT": str(port),
        "AUDIT_HMAC_KEY": "e2e-audit-key-0123456789abcdef",
        "AUDIT_LOG_FILE": str(tmp_path / "audit.jsonl"),
        "MUTATION_RATE_LIMIT": "1000",
    })
    for role, token in TOKENS.items() if tokens else ():
        env[f"MCP_ROLE_{role.upper()}"] = f"{token}:{role}"
    proc = subprocess.Popen([str(BINARY)], env=env, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode())
            time.sleep(0.05)
    path = "sse" if transport == "sse" else "mcp"
    return {"url": f"http://127.0.0.1:{port}/{path}", "base": f"http://127.0.0.1:{port}",
            "audit": tmp_path / "audit.jsonl", "proc": proc}


def stop_server(server):
    server["proc"].terminate()
    server["proc"].wait(timeout=10)


@pytest.fixture
def http_server(dojo, tmp_path):
    server = start_server(dojo, tmp_path, "streamable-http")
    yield server
    stop_server(server)


@pytest.fixture
def sse_server(dojo, tmp_path):
    server = start_server(dojo, tmp_path, "sse")
    yield server
    stop_server(server)
