"""Records the DefectDojo exchanges the end-to-end doubles answer with for the risk acceptance and
endpoint tools, from a live, seeded DefectDojo (scripts/live prepare, then test or seed).

usage: record_fixtures.py --url URL --token TOKEN --version VERSION --out DIR

Writes <DIR>/<name>.json in the recordings' format (method, path, status, request_json, response).
Which exchanges depend on the version: risk acceptances from 2.x, locations from 3.x."""
import argparse
import datetime
import json
import pathlib

import httpx


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    out = pathlib.Path(a.out)
    http = httpx.Client(base_url=a.url.rstrip("/"), timeout=60, headers={"Authorization": f"Token {a.token}"})

    def exchange(name, method, path, body=None, expect=200):
        r = http.request(method, path, json=body)
        record = {"method": method, "path": path, "status": r.status_code, "request_json": body,
                  "response": r.json() if r.content else None}
        (out / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n")
        assert r.status_code // 100 == expect // 100, (name, r.status_code, r.text[:500])
        return record["response"]

    if a.version.startswith("3."):
        exchange("location_list", "GET", "/api/v2/location/?limit=20")
        return
    exchange("risk_acceptance_get_404", "GET", "/api/v2/risk_acceptance/999999/", expect=404)
    admin = http.get("/api/v2/users/", params={"username": "admin"}).json()["results"][0]["id"]
    finding = http.get("/api/v2/findings/", params={"active": "true", "risk_accepted": "false", "limit": 1,
                                                     "o": "-id"}).json()["results"][0]["id"]
    expiry = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)).isoformat()
    made = exchange("risk_acceptance_create", "POST", "/api/v2/risk_acceptance/",
                    {"name": "recorded acceptance", "owner": admin, "accepted_findings": [finding],
                     "expiration_date": expiry, "decision": "A", "reactivate_expired": True})
    ra = made["id"]
    exchange("risk_acceptance_get", "GET", f"/api/v2/risk_acceptance/{ra}/")
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    exchange("risk_acceptance_patch", "PATCH", f"/api/v2/risk_acceptance/{ra}/",
             {"accepted_findings": [finding], "expiration_date": now})
    http.patch(f"/api/v2/findings/{finding}/", json={"risk_accepted": False}).raise_for_status()
    http.patch(f"/api/v2/risk_acceptance/{ra}/", json={"expiration_date_handled": now}
               ).raise_for_status()
    exchange("risk_acceptance_get_expired", "GET", f"/api/v2/risk_acceptance/{ra}/")


if __name__ == "__main__":
    main()
