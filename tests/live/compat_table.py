"""Writes docs/COMPATIBILITY.md from what scripts/live measured (target/live): per DefectDojo version,
whether the SDK builds from its spec, how many GET operations the pinned SDK decoded live out of those
exercised, and how many of the server's tools (every toolset) passed live.

usage: compat_table.py --live target/live --out docs/COMPATIBILITY.md
"""
import argparse
import datetime
import json
import pathlib

# Every tool of every toolset: the end-to-end cases name each one (a test keeps them in step).
CASES = pathlib.Path(__file__).resolve().parents[1] / "e2e" / "cases.json"
TOOLS = len(json.loads(CASES.read_text())["happy"])


def version_key(v):
    return tuple(int(x) for x in v.split("."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--live", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    live = pathlib.Path(a.live)
    specs = {}
    specs_file = live / "specs.tsv"
    if specs_file.exists():
        for line in specs_file.read_text().splitlines():
            version, status = line.split("\t")
            specs[version] = status
    runs = {}
    for d in sorted(p for p in live.iterdir() if p.is_dir() and (p / "sweep.json").exists()):
        sweep = json.loads((d / "sweep.json").read_text())
        tools = json.loads((d / "tools.json").read_text()) if (d / "tools.json").exists() else {"tools": {}}
        seed = json.loads((d / "seed.json").read_text()) if (d / "seed.json").exists() else {}
        runs[d.name] = (sweep, tools, seed)
    versions = sorted(set(specs) | set(runs), key=version_key)
    pinned = next(iter(runs.values()))[0]["spec_version"] if runs else "?"

    out = [
        "# Compatibility with DefectDojo releases",
        "",
        f"Regenerate with `./scripts/live` (last run {datetime.date.today()}). The SDK and the server are built",
        f"once, from the pinned spec **{pinned}** (`openapi/`), and that one binary is what runs against each live",
        "DefectDojo below. \"SDK builds\" is a separate check: the SDK generated from that version's own spec",
        "(`DOJO_OPENAPI_SPEC=...`, every spec in `../shared/defectdojo/openapi`).",
        "",
        "| DefectDojo | SDK builds from its spec | GET operations decoded live / exercised | tools passing live |",
        "|---|---|---|---|",
    ]
    for v in versions:
        build = specs.get(v, "not checked")
        if v in runs:
            sweep, tools, _ = runs[v]
            c = sweep["counts"]
            exercised = c["decoded"] + c["decode_failed"]
            gets = f"{c['decoded']} / {exercised}"
            passed = sum(1 for t in tools["tools"].values() if t["passed"])
            tools_cell = f"{passed} / {TOOLS}"
        else:
            gets = tools_cell = "not run (no source in ../shared to start it)"
        out.append(f"| {v} | {build} | {gets} | {tools_cell} |")

    for v, (sweep, tools, seed) in sorted(runs.items(), key=lambda kv: version_key(kv[0])):
        c = sweep["counts"]
        out += [
            "",
            f"## DefectDojo {v}",
            "",
            f"Seeded with {len(seed.get('imported', []))} real reports "
            f"({sum(i['findings'] for i in seed.get('imported', []))} findings) and "
            f"{sum(seed.get('made', {}).values())} objects in all; the ZAP pair goes in through the tools.",
            "",
            f"Of the pinned spec's {sweep['operations_in_spec']} GET operations: {c['decoded']} decoded, "
            f"{c['decode_failed']} failed to decode, {c['not_offered']} not offered by this release, "
            f"{c['no_data']} without data to ask for, {c['server_error']} answered with an error by DefectDojo, "
            f"{c['not_dispatched']} file downloads not swept.",
            "",
        ]
        for outcome, title in (("decode_failed", "Failed to decode"), ("not_offered", "Not offered"),
                               ("no_data", "No data"), ("server_error", "DefectDojo answered an error"),
                               ("not_dispatched", "Not swept")):
            ops = [f"`{op}`" + (f" ({o['detail']})" if outcome in ("decode_failed", "server_error") else "")
                   for op, o in sorted(sweep["operations"].items()) if o["outcome"] == outcome]
            if ops:
                out.append(f"- {title}: {', '.join(ops)}")
        failing = [t for t, r in tools["tools"].items() if not r["passed"]]
        missing = TOOLS - len(tools["tools"])
        out.append(f"- Tools: {len(tools['tools']) - len(failing)} of {TOOLS} passed"
                   + (f"; failing: {', '.join(failing)}" if failing else "")
                   + (f"; {missing} not exercised" if missing else ""))
        refused = sorted({r["kind"] for r in seed.get("refused", [])})
        if refused:
            out.append(f"- Seed objects this release refused: {', '.join(refused)}")
    pathlib.Path(a.out).write_text("\n".join(out) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
