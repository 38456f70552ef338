"""All 24 tools against a live, seeded DefectDojo, through the built server and the official Python MCP
client. Every effect is checked in DefectDojo's own REST API, not only in the tool's answer."""
import base64
import datetime

import anyio
import pytest

import json

from conftest import MAJOR, SCANS, SEED, WARNING, call_err, call_ok, http_session, stdio_session, text_of, unwrap

TODAY = datetime.date.today()
PRODUCT_A = SEED.get("products", [0, 0])[0]
PRODUCT_B = SEED.get("products", [0, 0])[-1]


def run(body):
    return anyio.run(body)


def b64(name):
    return base64.b64encode((SCANS / name).read_bytes()).decode()


def ids(page):
    return sorted(r["id"] for r in page["results"])


def a_finding(rest, product=None, **filters):
    """An active finding of the seeded data (of a product, if given)."""
    if product:
        filters["test__engagement__product"] = product
    return rest.get("/findings/", limit=1, active="true", ordering="id", **filters)["results"][0]


@pytest.mark.tools("health_check")
def test_health_check():
    async def body():
        async with stdio_session() as s:
            return await call_ok(s, "health_check", {})

    assert run(body)["status"] == "ok"


@pytest.mark.tools("list_products", "get_product", "list_product_types", "create_product")
def test_products(rest):
    name = f"live-created-{MAJOR}"
    prod_type = SEED["prod_type"]

    async def body():
        async with stdio_session() as s:
            listed = await call_ok(s, "list_products", {"limit": 100})
            product = await call_ok(s, "get_product", {"product_id": PRODUCT_A})
            types = await call_ok(s, "list_product_types", {"limit": 100})
            made = await call_ok(s, "create_product", {"name": name, "description": "made live", "prod_type_id": prod_type})
            return listed, product, types, made

    listed, product, types, made = run(body)
    assert ids(listed) == sorted(p["id"] for p in rest.get("/products/", limit=100)["results"] if p["id"] != made["id"])
    assert product["name"] == "live-app" and product["id"] == PRODUCT_A
    assert "Live seed" in [t["name"] for t in types["results"]]
    stored = rest.get(f"/products/{made['id']}/")
    assert (stored["name"], stored["description"], stored["prod_type"]) == (name, "made live", prod_type)


@pytest.mark.tools("list_engagements", "get_engagement", "create_engagement")
def test_engagements(rest):
    start, end = TODAY, TODAY + datetime.timedelta(days=7)

    async def body():
        async with stdio_session() as s:
            listed = await call_ok(s, "list_engagements", {"product_id": PRODUCT_A})
            one = await call_ok(s, "get_engagement", {"engagement_id": SEED["engagements"][0]})
            made = await call_ok(s, "create_engagement", {"product_id": PRODUCT_A, "name": "live sprint",
                                                          "target_start": str(start), "target_end": str(end)})
            return listed, one, made

    listed, one, made = run(body)
    stored = rest.get("/engagements/", product=PRODUCT_A, limit=100)["results"]
    assert ids(listed) == sorted(e["id"] for e in stored if e["id"] != made["id"])
    assert one["id"] == SEED["engagements"][0] and one["product"] == PRODUCT_A
    stored = rest.get(f"/engagements/{made['id']}/")
    assert (stored["product"], stored["name"], stored["target_start"], stored["target_end"]) == \
        (PRODUCT_A, "live sprint", str(start), str(end))


@pytest.mark.tools("list_tests", "get_test", "create_test", "list_test_types")
def test_tests(rest):
    engagement = SEED["engagements"][0]
    zap_type = rest.get("/test_types/", name="ZAP Scan")["results"][0]["id"]

    async def body():
        async with stdio_session() as s:
            listed = await call_ok(s, "list_tests", {"engagement_id": engagement, "limit": 100})
            one = await call_ok(s, "get_test", {"test_id": SEED["imported"][0]["test"]})
            types = await call_ok(s, "list_test_types", {"limit": 5})
            made = await call_ok(s, "create_test", {"engagement_id": engagement, "test_type_id": zap_type,
                                                    "target_start": str(TODAY), "target_end": str(TODAY)})
            return listed, one, types, made

    listed, one, types, made = run(body)
    stored = rest.get("/tests/", engagement=engagement, limit=100)["results"]
    assert ids(listed) == sorted(t["id"] for t in stored if t["id"] != made["id"])
    assert one["id"] == SEED["imported"][0]["test"] and one["engagement"] == SEED["imported"][0]["engagement"]
    assert types["count"] == rest.count("/test_types/") and len(types["results"]) == 5
    stored = rest.get(f"/tests/{made['id']}/")
    assert (stored["engagement"], stored["test_type"]) == (engagement, zap_type)


@pytest.mark.tools("list_findings", "get_finding")
def test_reading_findings(rest):
    async def body():
        async with stdio_session() as s:
            high = await call_ok(s, "list_findings", {"product_id": PRODUCT_A, "severity": "High", "limit": 100})
            raw = await s.call_tool("get_finding", {"finding_id": SEED["findings"][0]})
            return high, raw

    high, raw = run(body)
    expected = rest.get("/findings/", test__engagement__product=PRODUCT_A, severity="High", limit=100)
    assert high["count"] == expected["count"] and ids(high) == ids(expected)
    payload = json.loads(text_of(raw))
    assert payload["title"]["_warning"] == WARNING, "scanner text comes back wrapped"
    assert unwrap(payload)["title"] == rest.get(f"/findings/{SEED['findings'][0]}/")["title"]


@pytest.mark.tools("create_finding", "update_finding", "close_finding", "reopen_finding")
def test_finding_lifecycle(rest):
    test_id = SEED["imported"][0]["test"]

    async def body():
        async with stdio_session() as s:
            made = await call_ok(s, "create_finding", {"test_id": test_id, "title": "Live SQL injection",
                                                       "severity": "High", "description": "SQLi in /login"})
            fid = made["id"]
            created = rest.get(f"/findings/{fid}/")
            await call_ok(s, "update_finding", {"finding_id": fid, "severity": "Critical", "verified": True})
            updated = rest.get(f"/findings/{fid}/")
            closed = await call_ok(s, "close_finding", {"finding_id": fid, "reason": "false_positive",
                                                        "note": "not reachable"})
            after_close = rest.get(f"/findings/{fid}/")
            notes = rest.get(f"/findings/{fid}/notes/")
            await call_ok(s, "reopen_finding", {"finding_id": fid})
            return created, updated, closed, after_close, notes, rest.get(f"/findings/{fid}/")

    created, updated, closed, after_close, notes, reopened = run(body)
    # DefectDojo title-cases finding titles.
    assert (created["title"].lower(), created["severity"], created["test"], created["description"]) == \
        ("live sql injection", "High", test_id, "SQLi in /login")
    assert created["numerical_severity"] == "S1" and created["active"] is True
    assert (updated["severity"], updated["numerical_severity"], updated["verified"]) == ("Critical", "S0", True)
    assert closed["closed"] is True and closed.get("note_attached") is True
    assert after_close["false_p"] is True and after_close["active"] is False
    assert "not reachable" in [n["entry"] for n in notes["notes"]]
    assert reopened["active"] is True and reopened["false_p"] is False and reopened["is_mitigated"] is False


@pytest.mark.tools("close_finding")
def test_close_as_mitigated_sets_the_mitigation(rest):
    fid = a_finding(rest, PRODUCT_B)["id"]

    async def body():
        async with stdio_session() as s:
            await call_ok(s, "close_finding", {"finding_id": fid, "reason": "mitigated"})

    run(body)
    stored = rest.get(f"/findings/{fid}/")
    assert stored["is_mitigated"] is True and stored["active"] is False and stored["mitigated"]


@pytest.mark.tools("add_finding_note", "list_finding_notes", "add_finding_tags", "remove_finding_tags")
def test_notes_and_tags(rest):
    fid = SEED["findings"][1]

    async def body():
        async with stdio_session() as s:
            await call_ok(s, "add_finding_note", {"finding_id": fid, "entry": "Confirmed by a live test"})
            notes = await call_ok(s, "list_finding_notes", {"finding_id": fid})
            await call_ok(s, "add_finding_tags", {"finding_id": fid, "tags": ["pci", "live-tag"]})
            tagged = rest.get(f"/findings/{fid}/")["tags"]
            await call_ok(s, "remove_finding_tags", {"finding_id": fid, "tags": ["pci"]})
            return notes, tagged, rest.get(f"/findings/{fid}/")["tags"]

    notes, tagged, untagged = run(body)
    stored = [n["entry"] for n in rest.get(f"/findings/{fid}/notes/")["notes"]]
    assert "Confirmed by a live test" in stored
    assert "Confirmed by a live test" in [n["entry"] for n in notes["notes"]]
    assert {"pci", "live-tag"} <= set(tagged)
    assert "pci" not in untagged and "live-tag" in untagged


@pytest.mark.tools("import_scan", "reimport_scan")
def test_import_then_reimport_closes_what_is_absent(rest):
    product, engagement = f"live-zap-{MAJOR}", "live-zap-engagement"

    async def body():
        async with stdio_session() as s:
            first = await call_ok(s, "import_scan", {
                "scan_type": "ZAP Scan", "file": b64("zap-0_zap_sample.xml"), "file_name": "zap-0.xml",
                "product_name": product, "engagement_name": engagement, "product_type_name": "Live seed",
                "auto_create_context": True})
            before = rest.get("/findings/", test=first["test"], limit=100)["results"]
            second = await call_ok(s, "reimport_scan", {
                "scan_type": "ZAP Scan", "file": b64("zap-1_zap_sample_0_and_new_absent.xml"),
                "file_name": "zap-1.xml", "test_id": first["test"]})
            return first, before, second

    first, before, second = run(body)
    assert rest.get("/products/", name=product)["count"] == 1
    assert len(before) == 4 and all(f["active"] for f in before)
    after = {f["id"]: f for f in rest.get("/findings/", test=first["test"], limit=100)["results"]}
    closed = [f for f in after.values() if not f["active"]]
    assert len(after) == 5, "one new finding"
    assert len(closed) == 1 and closed[0]["is_mitigated"] is True and closed[0]["id"] in {f["id"] for f in before}
    delta = second["statistics"]["delta"]
    def total(kind):  # a "total" row beside the severities (2.x), or an "all" row (3.x)
        rows = delta[kind]
        return (rows.get("all") or rows["total"])["total"]

    assert (total("created"), total("closed"), total("untouched")) == (1, 1, 3)


@pytest.mark.tools("list_findings", "get_finding", "list_products")
def test_a_reader_sees_only_its_product(rest):
    reader = SEED["reader"]
    other = a_finding(rest, PRODUCT_B)
    other_before = rest.get(f"/findings/{other['id']}/")

    async def body():
        async with stdio_session(api_key=reader["token"]) as s:
            findings = await call_ok(s, "list_findings", {"limit": 1000})
            products = await call_ok(s, "list_products", {"limit": 100})
            hidden = await call_err(s, "get_finding", {"finding_id": other["id"]})
            refused = await s.call_tool("close_finding", {"finding_id": other["id"], "reason": "mitigated"})
            return findings, products, hidden, refused

    findings, products, hidden, refused = run(body)
    assert [p["id"] for p in products["results"]] == [reader["product"]]
    assert findings["count"] == rest.count("/findings/", test__engagement__product=reader["product"])
    assert other["id"] not in ids(findings)
    assert hidden.startswith("not found")
    assert refused.isError
    assert rest.get(f"/findings/{other['id']}/") == other_before, "the refused close changed nothing"


def snapshot(rest):
    """What a refused call must leave as it was."""
    fid = SEED["findings"][2]
    return {
        "counts": {p: rest.count(p) for p in ("/products/", "/engagements/", "/tests/", "/findings/")},
        "finding": rest.get(f"/findings/{fid}/"),
        "notes": rest.get(f"/findings/{fid}/notes/"),
    }


BAD = [
    ("create_product", {"name": "x", "description": "y", "prod_type_id": 999999}),
    ("create_product", {"name": "", "description": "y", "prod_type_id": 1}),
    ("create_engagement", {"product_id": 999999, "name": "x", "target_start": "2026-01-02", "target_end": "2026-01-03"}),
    ("create_engagement", {"product_id": 1, "name": "x", "target_start": "2026-01-05", "target_end": "2026-01-03"}),
    ("create_test", {"engagement_id": 999999, "test_type_id": 1, "target_start": "2026-01-02", "target_end": "2026-01-02"}),
    ("create_finding", {"test_id": 999999, "title": "x", "severity": "High", "description": "y"}),
    ("create_finding", {"test_id": 1, "title": "x", "severity": "Severe", "description": "y"}),
    ("update_finding", {"finding_id": "$F", "severity": "Severe"}),
    ("update_finding", {"finding_id": "$F", "title": "x\u0000y"}),
    ("update_finding", {"finding_id": 999999, "title": "x"}),
    ("close_finding", {"finding_id": "$F", "reason": "bored"}),
    ("close_finding", {"finding_id": 999999, "reason": "mitigated"}),
    ("reopen_finding", {"finding_id": 999999}),
    ("add_finding_note", {"finding_id": "$F", "entry": "   "}),
    ("add_finding_note", {"finding_id": 999999, "entry": "x"}),
    ("add_finding_tags", {"finding_id": "$F", "tags": ["bad<tag>"]}),
    ("remove_finding_tags", {"finding_id": "$F", "tags": ["never-there"]}),
    ("import_scan", {"scan_type": "No Such Scanner", "file": base64.b64encode(b"<x/>").decode(), "file_name": "x.xml",
                     "product_name": "live-app", "engagement_name": "live-app CI"}),
    ("import_scan", {"scan_type": "ZAP Scan", "file": "not base64!", "file_name": "x.xml",
                     "product_name": "live-app", "engagement_name": "live-app CI"}),
    ("import_scan", {"scan_type": "ZAP Scan", "file": base64.b64encode(b"garbage").decode(), "file_name": "x.xml",
                     "product_name": "no-such-product", "engagement_name": "none"}),
    ("reimport_scan", {"scan_type": "ZAP Scan", "file": base64.b64encode(b"<x/>").decode(), "file_name": "x.xml",
                       "test_id": 999999}),
]


@pytest.mark.tools("create_product", "create_engagement", "create_test", "create_finding", "update_finding",
                   "close_finding", "reopen_finding", "add_finding_note", "add_finding_tags", "remove_finding_tags",
                   "import_scan", "reimport_scan")
def test_bad_input_changes_nothing_on_the_live_server(rest):
    fid = SEED["findings"][2]
    before = snapshot(rest)

    async def body():
        messages = []
        async with stdio_session() as s:
            for tool, args in BAD:
                args = {k: (fid if v == "$F" else v) for k, v in args.items()}
                messages.append((tool, await call_err(s, tool, args)))
        return messages

    messages = run(body)
    for tool, message in messages:
        assert message and "Traceback" not in message and "Token " not in message, (tool, message)
    after = snapshot(rest)
    assert after["counts"] == before["counts"]
    assert after["notes"] == before["notes"]
    for key in ("title", "severity", "active", "false_p", "is_mitigated", "tags", "verified"):
        assert after["finding"][key] == before["finding"][key], key


@pytest.mark.tools("list_findings", "get_finding")
def test_streamable_http_against_the_live_server(rest, tmp_path):
    async def body():
        async with http_session(tmp_path) as s:
            page = await call_ok(s, "list_findings", {"test_id": SEED["imported"][1]["test"], "limit": 500})
            one = await call_ok(s, "get_finding", {"finding_id": page["results"][0]["id"]})
            return page, one

    page, one = run(body)
    assert page["count"] == rest.count("/findings/", test=SEED["imported"][1]["test"])
    assert one["id"] == page["results"][0]["id"]
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines() if line.strip()]
    assert [r.get("tool") for r in audit[1:]] == ["list_findings", "get_finding"]
