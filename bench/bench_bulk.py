"""Bulk-write benchmark: the platform's bulk create (a JSON list POSTed to ``/api/data/bench/item``, 500 items per
request) next to its one-by-one creates and the hand-written baseline's bulk endpoint (``POST /api/items/bulk``:
marshmallow per item, then ``executemany`` with the same audit and outbox rows), in one run; also an entity with a
before-rule (run per record), bulk updates and bulk deletes.

Same setup as ``bench/bench_api.py``: both apps in this process on fresh SQLite files (WAL, ``synchronous=FULL``),
driven through Flask's test client; times are client call to buffered answer, rec/s = records / total time.

Run from the project root::

    .venv/bin/python -m bench.bench_bulk                 # 20,000 records per bulk measurement
    .venv/bin/python -m bench.bench_bulk --quick         # smoke run

Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_api import make_record, setup_baseline, setup_lowcode  # noqa: E402

PER_REQUEST = 500
CPU: list[float] = []
"""rec/s by this process's CPU time of each measurement (the last one appended is the last run's): on a
shared machine the wall clock also counts other jobs' turns."""
RULED = {
    "app": {"name": "benchrule", "label": "Bench rule"},
    "entities": [{"name": "item", "label": "Item", "fields": [
        {"name": "code", "type": "text", "required": True, "unique": True},
        {"name": "name", "type": "text", "required": True},
        {"name": "qty", "type": "integer"},
        {"name": "price", "type": "money", "required": True},
        {"name": "status", "type": "select", "options": {"choices": [
            {"value": "draft"}, {"value": "open"}, {"value": "hold"}, {"value": "closed"}]}},
        {"name": "active", "type": "boolean", "default": True},
        {"name": "due", "type": "date"},
        {"name": "note", "type": "long_text"}]}],
    "rules": [{"name": "no_negative", "entity": "item",
               "trigger": {"events": ["create"], "phase": "before"},
               "actions": [{"type": "refuse", "when": "qty < 0", "message": "No negative quantities"},
                           {"type": "set_fields", "when": "status = null", "values": {"status": "'draft'"}}]}],
}  # fmt: skip


def import_time(lc, folder: Path, n: int) -> tuple[float, float]:
    """Seconds (wall, CPU) of ``lowcode template import`` of a bundle file holding ``n`` demo records of the
    8-field entity (no rules): read, checked, published, then the records through the bulk creates."""
    bundle = {
        "app": {"name": "benchimport", "label": "Bench import"},
        "entities": RULED["entities"],
        "demo_data": [{"entity": "item", "records": [make_record(i) for i in range(n)]}],
    }
    path = folder / "import.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    from lowcode.commands import install_template

    t0, c0 = time.perf_counter(), time.process_time()
    summary = install_template(lc.app, path)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert f"{n} records" in summary, summary
    return wall, cpu


def _post(client, url: str, headers: dict, body: bytes, expect: int = 201):
    response = client.post(url, data=body, headers=headers, content_type="application/json")
    if response.status_code != expect:
        raise SystemExit(f"{url}: HTTP {response.status_code}: {response.get_data(as_text=True)[:400]}")
    return response


def bulk_rate(client, url: str, headers: dict, start: int, n: int) -> float:
    """rec/s of ``n`` records created ``PER_REQUEST`` per request (bodies encoded before the clock starts)."""
    bodies = [
        json.dumps([make_record(i) for i in range(s, min(s + PER_REQUEST, start + n))]).encode()
        for s in range(start, start + n, PER_REQUEST)
    ]
    t0, c0 = time.perf_counter(), time.process_time()
    for body in bodies:
        _post(client, url, headers, body)
    CPU.append(n / (time.process_time() - c0))
    return n / (time.perf_counter() - t0)


def single_rate(client, url: str, headers: dict, start: int, n: int) -> float:
    """rec/s of ``n`` records created one per request."""
    bodies = [json.dumps(make_record(i)).encode() for i in range(start, start + n)]
    t0, c0 = time.perf_counter(), time.process_time()
    for body in bodies:
        _post(client, url, headers, body)
    CPU.append(n / (time.process_time() - c0))
    return n / (time.perf_counter() - t0)


def change_rate(client, url: str, headers: dict, method: str, records: list[dict]) -> float:
    """rec/s of bulk updates (qty + 1) or deletes of ``records``, ``PER_REQUEST`` per request."""
    bodies = []
    for s in range(0, len(records), PER_REQUEST):
        part = records[s : s + PER_REQUEST]
        extra = (lambda r: {"qty": (r["qty"] or 0) + 1}) if method == "PATCH" else (lambda r: {})
        bodies.append(
            json.dumps([{"id": r["id"], "version": r["version"], **extra(r)} for r in part]).encode()
        )
    t0, c0 = time.perf_counter(), time.process_time()
    for body in bodies:
        response = client.open(
            url, method=method, data=body, headers=headers, content_type="application/json"
        )
        if response.status_code != 200:
            raise SystemExit(
                f"{method} {url}: HTTP {response.status_code}: {response.get_data(as_text=True)[:400]}"
            )
    CPU.append(len(records) / (time.process_time() - c0))
    return len(records) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000, help="records per bulk measurement")
    parser.add_argument("--single", type=int, default=2_000, help="records created one by one")
    parser.add_argument("--quick", action="store_true", help="2,000 bulk / 300 single")
    parser.add_argument(
        "--import", dest="imported", type=int, default=0, help="only time importing this many records"
    )
    args = parser.parse_args()
    n, single = (2_000, 300) if args.quick else (args.records, args.single)
    folder = Path(tempfile.mkdtemp(prefix="bench-bulk-"))
    lc, bl = setup_lowcode(folder, 0, "full"), setup_baseline(folder, 0, "full")
    lc.client, bl.client = lc.app.test_client(), bl.app.test_client()
    if args.imported:
        wall, cpu = import_time(lc, folder, args.imported)
        print(
            f"\nimport of {args.imported:,} records (template bundle file, demo data through bulk creates):"
        )
        print(f"{wall:.1f} s wall ({args.imported / wall:,.0f} rec/s), {cpu:.1f} s CPU "
              f"({args.imported / cpu:,.0f} rec/s); the issue's figure: 30 s for 100,000")  # fmt: skip
        lc.dispose()
        bl.dispose()
        return
    imported = lc.client.post("/api/templates/import", json=RULED, headers=lc.headers)
    assert imported.status_code == 201, imported.get_json()
    ruled = "/api/data/benchrule/item"

    # warm-up (snapshot, statement caches), not measured
    bulk_rate(lc.client, lc.base, lc.headers, 10_000_000, PER_REQUEST)
    bulk_rate(bl.client, "/api/items/bulk", bl.headers, 10_000_000, PER_REQUEST)
    bulk_rate(lc.client, ruled, lc.headers, 10_000_000, PER_REQUEST)

    CPU.clear()
    # alternate platform and baseline in halves so machine noise falls on both
    half = n // 2
    lc_bulk = [bulk_rate(lc.client, lc.base, lc.headers, 0, half)]
    bl_bulk = [bulk_rate(bl.client, "/api/items/bulk", bl.headers, 0, half)]
    bl_bulk.append(bulk_rate(bl.client, "/api/items/bulk", bl.headers, half, n - half))
    lc_bulk.append(bulk_rate(lc.client, lc.base, lc.headers, half, n - half))
    lc_rate = n / sum(half_n / r for half_n, r in zip((half, n - half), lc_bulk, strict=True))
    bl_rate = n / sum(half_n / r for half_n, r in zip((half, n - half), bl_bulk, strict=True))
    lc_single = single_rate(lc.client, lc.base, lc.headers, 20_000_000, single)
    bl_single = single_rate(bl.client, "/api/items", bl.headers, 20_000_000, single)
    ruled_bulk = bulk_rate(lc.client, ruled, lc.headers, 0, n)
    ruled_single = single_rate(lc.client, ruled, lc.headers, 20_000_000, single)
    stored = []
    after = None
    while len(stored) < n:
        url = f"{lc.base}?limit=500&sort=id" + (f"&after={after}" if after else "")
        page = lc.client.get(url, headers=lc.headers).get_json()
        stored += page["data"]
        after = page["next"]
        if after is None:
            break
    stored = stored[:n]
    updated = change_rate(lc.client, lc.base, lc.headers, "PATCH", stored)
    stored = [{**r, "version": r["version"] + 1} for r in stored]
    deleted = change_rate(lc.client, lc.base, lc.headers, "DELETE", stored)

    halves = (half, n - half)
    lc_cpu = n / sum(k / r for k, r in zip(halves, (CPU[0], CPU[3]), strict=True))
    bl_cpu = n / sum(k / r for k, r in zip(halves, (CPU[1], CPU[2]), strict=True))
    cpu_rows = [
        ("bulk create, 8-field entity without rules", lc_cpu, bl_cpu),
        ("one-by-one create", CPU[4], CPU[5]),
        ("bulk create, entity with a before-rule", CPU[6], None),
        ("one-by-one create, entity with a before-rule", CPU[7], None),
        ("bulk update (qty + 1, id + version)", CPU[8], None),
        ("bulk delete (id + version)", CPU[9], None),
    ]
    rows = [
        (
            "bulk create, 8-field entity without rules",
            f"{lc_rate:,.0f}",
            f"{bl_rate:,.0f}",
            lc_rate / bl_rate,
        ),
        ("one-by-one create", f"{lc_single:,.0f}", f"{bl_single:,.0f}", lc_single / bl_single),
        ("bulk vs one-by-one (platform)", f"{lc_rate:,.0f} / {lc_single:,.0f}", "", lc_rate / lc_single),
        ("bulk create, entity with a before-rule", f"{ruled_bulk:,.0f}", "", ruled_bulk / bl_rate),
        (
            "one-by-one create, entity with a before-rule",
            f"{ruled_single:,.0f}",
            "",
            ruled_single / bl_single,
        ),
        ("bulk update (qty + 1, id + version)", f"{updated:,.0f}", "", None),
        ("bulk delete (id + version)", f"{deleted:,.0f}", "", None),
    ]
    print(f"\n{n:,} records per bulk measurement, {PER_REQUEST} per request; {single:,} one by one; SQLite WAL, "
          "synchronous=FULL, Flask test client\n")  # fmt: skip
    print("| what | platform rec/s | baseline rec/s | ratio (platform / baseline) |")
    print("|---|---:|---:|---:|")
    for name, a, b, ratio in rows:
        print(f"| {name} | {a} | {b} | {'' if ratio is None else f'{ratio:.2f}x'} |")
    print("\nBy this process's CPU time (records / CPU seconds; what a free core would do):\n")
    print("| what | platform rec/s (CPU) | baseline rec/s (CPU) | ratio |")
    print("|---|---:|---:|---:|")
    for name, a, b in cpu_rows:
        ratio = f"{a / b:.2f}x" if b else ""
        print(f"| {name} | {a:,.0f} | {'' if b is None else f'{b:,.0f}'} | {ratio} |")
    lc.dispose()
    bl.dispose()


if __name__ == "__main__":
    main()
