"""Seeds a freshly initialized live DefectDojo through its REST API, as a user would fill it.

The twelve real reports in ../shared/defectdojo/scans go in by `import-scan` (all but the ZAP pair,
which the tool tests import and reimport through the MCP server), into two products of one product
type; then one or more objects of every kind the API can create without an outside service (notes,
tags, metadata, risk acceptance, tool configurations, templates, users, files, ...), so that most GET
operations have something to show. A reader user is given access to the first product only.

Usage: seed.py --url URL --token TOKEN --version VERSION --scans DIR --out seed.json
Writes what it made (ids the tests need, counts per kind, what the server refused) to --out, and
exits non-zero if a core object (products, engagements, imports, the reader) cannot be made.
"""
import argparse
import datetime
import json
import pathlib
import sys

import httpx

PASSWORD = "Live-Reader-Password-1"


class Dojo:
    def __init__(self, url, token):
        self.http = httpx.Client(base_url=url.rstrip("/") + "/api/v2", timeout=120,
                                 headers={"Authorization": f"Token {token}"})
        self.made = {}
        self.refused = []

    def get(self, path, **params):
        r = self.http.get(path, params=params)
        r.raise_for_status()
        return r.json()

    def post(self, kind, path, core=False, **kwargs):
        """POSTs and counts what was made; a refusal of a core object stops the seeding."""
        return self.write("POST", (200, 201), kind, path, core, **kwargs)

    def patch(self, kind, path, core=False, **kwargs):
        return self.write("PATCH", (200,), kind, path, core, **kwargs)

    def write(self, method, ok, kind, path, core, **kwargs):
        r = self.http.request(method, path, **kwargs)
        if r.status_code in ok:
            self.made[kind] = self.made.get(kind, 0) + 1
            return r.json() if r.content else {}
        self.refused.append({"kind": kind, "path": path, "status": r.status_code, "body": r.text[:300]})
        if core:
            sys.exit(f"seed: cannot {method} {kind}: HTTP {r.status_code} {r.text[:500]}")
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--scans", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    major = int(a.version.split(".")[0])
    dojo = Dojo(a.url, a.token)
    scans = pathlib.Path(a.scans)
    today = datetime.date.today()
    admin = dojo.get("/user_profile/")["user"]["id"]

    # --- products, engagements and the eleven reports ---
    prod_type = dojo.post("product_type", "/product_types/", core=True,
                          json={"name": "Live seed", "description": "seeded by tests/live/seed.py"})
    products, engagements = [], []
    for name in ("live-app", "live-other"):
        p = dojo.post("product", "/products/", core=True,
                      json={"name": name, "description": f"{name}, seeded", "prod_type": prod_type["id"]})
        products.append(p["id"])
        e = dojo.post("engagement", "/engagements/", core=True,
                      json={"product": p["id"], "name": f"{name} CI", "target_start": str(today),
                            "target_end": str(today + datetime.timedelta(days=30)),
                            "engagement_type": "CI/CD", "status": "In Progress"})
        engagements.append(e["id"])
    index = json.loads((scans / "index.json").read_text())
    imported = []
    for n, report in enumerate(r for r in index if not r["file"].startswith("zap-")):
        engagement = engagements[n % 2]
        with open(scans / report["file"], "rb") as f:
            answer = dojo.post("import", "/import-scan/", core=True,
                               data={"scan_type": report["scan_type"], "engagement": str(engagement),
                                     "active": "true", "verified": "false", "minimum_severity": "Info",
                                     "close_old_findings": "false"},
                               files={"file": (report["file"], f)})
        findings = dojo.get("/findings/", test=answer["test"], limit=1)["count"]
        imported.append({"file": report["file"], "scan_type": report["scan_type"], "test": answer["test"],
                         "engagement": engagement, "findings": findings,
                         "parsed_findings": report["parsed_findings"]})

    first_test = imported[0]["test"]
    some = dojo.get("/findings/", test=first_test, limit=3, ordering="id")["results"]
    finding_ids = [f["id"] for f in some]

    # --- things attached to findings, tests and engagements ---
    note_type = dojo.post("note_type", "/note_type/", json={"name": "Triage", "description": "triage notes"})
    for fid in finding_ids:
        dojo.post("finding_note", f"/findings/{fid}/notes/", json={"entry": "seeded note", "private": False})
        dojo.post("finding_tags", f"/findings/{fid}/tags/", json={"tags": ["seeded", "live"]})
        dojo.post("finding_metadata", f"/findings/{fid}/metadata/", json={"name": "owner", "value": "team-a"})
        dojo.post("finding_file", f"/findings/{fid}/files/", data={"title": f"evidence {fid}"},
                  files={"file": ("evidence.txt", b"seeded evidence\n", "text/plain")})
    dojo.post("request_response", f"/findings/{finding_ids[0]}/request_response/",
              json={"req_resp": [{"request": "GET /login HTTP/1.1\r\nHost: app.example.com\r\n\r\n",
                                  "response": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}]})
    dojo.post("test_note", f"/tests/{first_test}/notes/", json={"entry": "seeded test note"})
    dojo.post("test_file", f"/tests/{first_test}/files/", data={"title": "log"},
              files={"file": ("log.txt", b"seeded log\n", "text/plain")})
    dojo.post("engagement_note", f"/engagements/{engagements[0]}/notes/", json={"entry": "seeded engagement note"})
    dojo.post("engagement_file", f"/engagements/{engagements[0]}/files/", data={"title": "plan"},
              files={"file": ("plan.txt", b"seeded plan\n", "text/plain")})
    ra = dojo.post("risk_acceptance", "/risk_acceptance/",
                   json={"name": "Accepted for the release", "owner": admin, "accepted_findings": finding_ids[-1:],
                         "decision": "A", "decision_details": "seeded",
                         "expiration_date": (today + datetime.timedelta(days=90)).isoformat() + "T00:00:00Z"})
    if ra and major >= 3:
        dojo.post("risk_acceptance_note", f"/risk_acceptance/{ra['id']}/notes/", json={"entry": "seeded"})

    # --- product-level and global objects ---
    p0 = products[0]
    dojo.post("metadata", "/metadata/", json={"product": p0, "name": "tier", "value": "1"})
    dojo.post("technology", "/technologies/", json={"product": p0, "name": "Django", "user": admin})
    language_types = dojo.get("/language_types/", limit=1)["results"]
    if language_types:
        dojo.post("language", "/languages/", json={"product": p0, "language": language_types[0]["id"],
                                                   "files": 3, "code": 120, "blank": 10, "comment": 5})
    dojo.post("engagement_preset", "/engagement_presets/", json={"product": p0, "title": "Quarterly", "notes": "x", "scope": "the web app"})
    dojo.post("finding_template", "/finding_templates/",
              json={"title": "SQL injection", "severity": "High", "description": "template", "cwe": 89})
    dojo.post("tool_type", "/tool_types/", json={"name": "Seeded scanner", "description": "seeded"})
    # API scan configurations need a tool type DefectDojo knows how to call; the fixtures have SonarQube.
    tool_type = (dojo.get("/tool_types/", name="SonarQube")["results"] or [None])[0]
    if tool_type:
        tool_config = dojo.post("tool_configuration", "/tool_configurations/",
                                json={"name": "Sonar", "tool_type": tool_type["id"], "url": "https://sonar.invalid",
                                      "authentication_type": "API", "api_key": "not-a-real-key"})
        if tool_config:
            dojo.post("tool_product_setting", "/tool_product_settings/",
                      json={"name": "Sonar project", "product": p0, "tool_configuration": tool_config["id"],
                            "setting_url": "https://sonar.invalid/project"})
            api_scan = "/asset_api_scan_configurations/" if major >= 3 else "/product_api_scan_configurations/"
            body = {"tool_configuration": tool_config["id"], "service_key_1": "project-key"}
            body["asset" if major >= 3 else "product"] = p0
            if major >= 3:
                # 3.x keeps the old path as an alias: seed through the new one, read both.
                body["product"] = p0
            dojo.post("api_scan_configuration", api_scan, json=body)
    dojo.post("network_location", "/network_locations/", json={"location": "10.0.0.0/24"})
    dojo.post("announcement", "/announcements/", json={"message": "Seeded announcement", "dismissable": True})
    dojo.post("development_environment", "/development_environments/", json={"name": "Staging"})
    dojo.post("regulation", "/regulations/",
              json={"name": "Seeded regulation", "acronym": "SR", "category": "privacy", "jurisdiction": "EU",
                    "description": "seeded", "reference": "https://example.com/regulation"})
    dojo.post("notification_webhook", "/notification_webhooks/",
              json={"name": "Seeded webhook", "url": "http://127.0.0.1:9/hook", "header_name": "", "header_value": ""})
    if major >= 3:
        dojo.post("cicd_infrastructure", "/cicd_infrastructure/",
                  json={"name": "Jenkins", "infrastructure_type": "build_server", "url": "https://ci.invalid"})
    if major < 3:
        dojo.post("endpoint", "/endpoints/", json={"protocol": "https", "host": "app.example.com", "product": p0})

    # --- a reader who may see the first product only ---
    user = dojo.post("user", "/users/", core=True,
                     json={"username": "live-reader", "email": "reader@example.com", "first_name": "Live",
                           "last_name": "Reader", "password": PASSWORD, "is_active": True})
    dojo.post("user_contact_info", "/user_contact_infos/", json={"user": user["id"], "title": "Analyst"})
    if major >= 3:
        # The open-source 3.x has no roles: access is the product's authorized_users.
        dojo.patch("reader_access", f"/products/{p0}/", core=True, json={"authorized_users": [user["id"]]})
    else:
        roles = {r["name"]: r["id"] for r in dojo.get("/roles/", limit=100)["results"]}
        dojo.post("reader_access", "/product_members/", core=True,
                  json={"product": p0, "user": user["id"], "role": roles["Reader"]})
    r = httpx.post(a.url.rstrip("/") + "/api/v2/api-token-auth/",
                   json={"username": "live-reader", "password": PASSWORD}, timeout=60)
    if r.status_code != 200:
        sys.exit(f"seed: cannot get the reader's API token: HTTP {r.status_code} {r.text[:300]}")
    reader_token = r.json()["token"]

    out = {
        "version": a.version, "admin_user": admin, "prod_type": prod_type["id"], "products": products,
        "engagements": engagements, "imported": imported, "findings": finding_ids,
        "reader": {"user": user["id"], "token": reader_token, "product": p0},
        "made": dojo.made, "refused": dojo.refused,
    }
    pathlib.Path(a.out).write_text(json.dumps(out, indent=1))
    print(f"seeded DefectDojo {a.version}: {sum(dojo.made.values())} objects "
          f"({len(imported)} reports, {sum(i['findings'] for i in imported)} findings); "
          f"{len(dojo.refused)} refused: {', '.join(sorted({r['kind'] for r in dojo.refused})) or 'none'}")


if __name__ == "__main__":
    main()
