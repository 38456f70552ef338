"""The SDK's examples (examples/*.rs) run against the live DefectDojo, their effects checked in its REST
API. scripts/live builds them first (`cargo build --examples`)."""
import os
import subprocess

from conftest import MAJOR, ROOT, SCANS, SEED, TOKEN, URL

EXAMPLES = ROOT / "target" / "debug" / "examples"


def run_example(name, *args):
    env = dict(os.environ, DEFECTDOJO_URL=URL, DEFECTDOJO_API_KEY=TOKEN, ALLOW_INSECURE_HTTP="true")
    done = subprocess.run([str(EXAMPLES / name), *map(str, args)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"{name}: {done.stderr}"
    return done.stdout


def test_critical_findings_pages_a_products_criticals(rest):
    product = SEED["products"][0]
    out = run_example("critical_findings", product).splitlines()
    expected = rest.count("/findings/", test__engagement__product=product, severity="Critical", active="true")
    assert out[-1] == f"{expected} active critical finding(s) in product {product}"
    assert len(out) - 1 == expected


def test_import_then_reimport(rest):
    product = f"sdk-example-{MAJOR}"
    out = run_example("import_reimport", "ZAP Scan", "Live seed", product, "sdk example", SCANS / "zap-0_zap_sample.xml",
                      SCANS / "zap-1_zap_sample_0_and_new_absent.xml")
    assert "created: 1" in out and "closed: 1" in out and "untouched: 3" in out, out
    test = int(out.splitlines()[0].rsplit(" ", 1)[1])
    findings = rest.get("/findings/", test=test, limit=100)["results"]
    assert len(findings) == 5 and sum(1 for f in findings if not f["active"]) == 1
    assert rest.get(f"/tests/{test}/")["engagement"] in [
        e["id"] for e in rest.get("/engagements/", product=rest.get("/products/", name=product)["results"][0]["id"])["results"]]


def test_close_with_a_reason(rest):
    finding = rest.get("/findings/", test__engagement__product=SEED["products"][1], active="true", limit=1,
                       ordering="-id")["results"][0]["id"]
    out = run_example("close_finding", finding, "out_of_scope", "outside the product's boundary")
    assert "out_of_scope=true" in out, out
    stored = rest.get(f"/findings/{finding}/")
    assert stored["out_of_scope"] is True and stored["active"] is False
    assert "outside the product's boundary" in [n["entry"] for n in rest.get(f"/findings/{finding}/notes/")["notes"]]


def test_errors_by_kind():
    out = run_example("errors_by_kind")
    assert "finding 999999999: NotFound" in out
    assert "user profile with a bad key: Unauthenticated" in out
    assert "import of a report for an unknown scanner: Invalid" in out, out


def test_uploads_the_files_the_generated_client_cannot(rest):
    finding, engagement = SEED["findings"][0], SEED["engagements"][0]
    test, product = SEED["imported"][0]["test"], SEED["products"][0]
    languages_before = rest.count("/languages/", product=product)
    out = run_example("upload_files", finding, engagement, test, product)
    for path, owner in ((f"/findings/{finding}/files/", f"Finding({finding})"),
                        (f"/engagements/{engagement}/files/", f"Engagement({engagement})"),
                        (f"/tests/{test}/files/", f"Test({test})")):
        titles = [f["title"] for f in rest.get(path)["files"]]
        assert f"example evidence for {owner}" in titles, (path, titles)
    languages = rest.get("/languages/", product=product, limit=100)["results"]
    assert len(languages) >= max(languages_before, 1), out
    assert "endpoint metadata imported" in out
