"""A DefectDojo double for end-to-end tests: answers with the exchanges recorded on DefectDojo 2.50.4.

Routes are matched on method and path (query ignored). Every request is kept in `requests` so a test
can assert what reached "DefectDojo" — and, above all, what did not.
"""
import json
import pathlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "dojo-sdk" / "tests" / "fixtures" / "recorded"

# (method, path) -> fixture, shared with the Rust end-to-end tests.
CASES = json.loads((pathlib.Path(__file__).resolve().parent / "cases.json").read_text())
ROUTES = {(r["method"], r["path"]): r["fixture"] for r in CASES["routes"]}


class DojoDouble:
    def __init__(self):
        self.requests = []
        self.fixtures = {}
        for name in set(ROUTES.values()):
            self.fixtures[name] = json.loads((FIXTURES / f"{name}.json").read_text())
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                double.requests.append({"method": self.command, "path": path, "query": self.path,
                                        "body": body, "headers": dict(self.headers)})
                if self.headers.get("authorization") != "Token dojo-test-key":
                    return self._reply(403, {"detail": "Invalid token."})
                name = ROUTES.get((self.command, path))
                if name is None:
                    return self._reply(404, {"detail": "Not found."})
                fx = double.fixtures[name]
                self._reply(fx["status"], fx["response"])

            def _reply(self, status, payload):
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def writes(self):
        return [r for r in self.requests if r["method"] != "GET"]

    def close(self):
        self.server.shutdown()
