"""A DefectDojo double for end-to-end tests: answers with the exchanges recorded on DefectDojo 2.50.4.

Routes are matched on method and path (query ignored). Every request is kept in `requests` so a test
can assert what reached "DefectDojo" — and, above all, what did not.
"""
import json
import pathlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "dojo-sdk" / "tests" / "fixtures" / "recorded"

# (method, path) -> fixture. The first matching entry wins.
ROUTES = {
    ("GET", "/api/v2/user_profile/"): "user_profile",
    ("GET", "/api/v2/products/"): "products_list",
    ("GET", "/api/v2/products/1/"): "product_get",
    ("POST", "/api/v2/products/"): "product_create",
    ("GET", "/api/v2/product_types/"): "product_types_list",
    ("GET", "/api/v2/engagements/"): "engagements_list",
    ("GET", "/api/v2/engagements/1/"): "engagement_get",
    ("POST", "/api/v2/engagements/"): "engagement_create",
    ("GET", "/api/v2/tests/"): "tests_list",
    ("GET", "/api/v2/tests/1/"): "test_get",
    ("POST", "/api/v2/tests/"): "test_create",
    ("GET", "/api/v2/test_types/"): "test_types_list",
    ("GET", "/api/v2/findings/"): "findings_list",
    ("GET", "/api/v2/findings/1/"): "finding_get",
    ("GET", "/api/v2/findings/999999/"): "finding_get_404",
    ("POST", "/api/v2/findings/"): "finding_create",
    ("PATCH", "/api/v2/findings/555/"): "finding_patch",
    ("POST", "/api/v2/findings/555/close/"): "finding_close_mitigated",
    ("POST", "/api/v2/findings/555/notes/"): "finding_note_create",
    ("GET", "/api/v2/findings/1/notes/"): "finding_notes_list",
    ("POST", "/api/v2/findings/555/tags/"): "finding_tags_add",
    ("PATCH", "/api/v2/findings/555/remove_tags/"): "finding_tags_remove",
    ("POST", "/api/v2/import-scan/"): "import_scan_auto_context",
    ("POST", "/api/v2/reimport-scan/"): "reimport_scan_test",
}


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
