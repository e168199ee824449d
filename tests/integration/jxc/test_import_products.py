"""Spreadsheet import of JXC products through the API: the sample file with the template's ``product_sheet``
mapping, applied per row by the job runner as the uploader (their grants), each row once (a second import
answers "duplicate"), exact money, per-row results for the owner only, hostile files refused, and the
runner's lease, cancel and thread paths."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from lowcode.jobs import store
from lowcode.jobs.runner import JobRunner

SAMPLE = Path(__file__).resolve().parent / "samples" / "products_import.csv"
URL = "/api/imports/jxc/product"


def _upload(client, name: str, content: bytes, **form):
    data = {"file": (io.BytesIO(content), name), **form}
    return client.post(URL, data=data, content_type="multipart/form-data")


def _run(app) -> list[int]:
    return JobRunner(app.extensions["lowcode"]).run_all()


def _results(client, job_id: int) -> list[dict]:
    response = client.get(f"/api/jobs/{job_id}/result")
    assert response.status_code == 200, response.get_json()
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def _products(jxc, prefix: str = "IMP-") -> dict[str, dict]:
    cond = {"field": "sku", "op": "starts_with", "value": prefix}
    return {p["sku"]: p for p in jxc.rows("product", cond)}


def test_the_sample_file_imports_per_row_and_a_second_import_is_all_duplicates(jxc):
    started = _upload(jxc.purchaser, "products.csv", SAMPLE.read_bytes(), mapping="product_sheet", start="1")
    assert started.status_code == 201, started.get_json()
    job = started.get_json()
    assert job["status"] == "queued" and job["total"] == 5  # the blank line is skipped
    assert _run(jxc.app) == [job["id"]]
    status = jxc.purchaser.get(f"/api/jobs/{job['id']}").get_json()
    assert status["status"] == "done" and status["percent"] == 100 and status["done"] == 5
    assert status["counts"] == {"created": 3, "updated": 0, "duplicate": 0, "rejected": 2}
    results = _results(jxc.purchaser, job["id"])
    assert [(r["row"], r["outcome"]) for r in results] == [
        ("2", "created"), ("3", "created"), ("4", "created"), ("6", "rejected"), ("7", "rejected")]  # fmt: skip
    assert results[3]["errors"] == "进价: At most 2 decimal places."
    assert results[4]["errors"] == "品名: missing value" and results[4]["record_id"] == ""
    products = _products(jxc)
    assert set(products) == {"IMP-001", "IMP-002", "IMP-003"}
    assert products["IMP-001"]["sale_price"] == "39.90" and products["IMP-003"]["purchase_cost"] == "55.00"
    assert int(results[0]["record_id"]) == products["IMP-001"]["id"]

    again = _upload(
        jxc.purchaser, "products-copy.csv", SAMPLE.read_bytes(), mapping="product_sheet", start="1"
    )
    _run(jxc.app)
    status = jxc.purchaser.get(f"/api/jobs/{again.get_json()['id']}").get_json()
    assert status["counts"] == {"created": 0, "updated": 0, "duplicate": 3, "rejected": 2}
    assert len(_products(jxc)) == 3


def test_a_changed_row_updates_by_sku_and_a_row_repeated_in_the_file_is_applied_once(jxc):
    header = "货号,品名,售价\n"
    _upload(
        jxc.purchaser, "a.csv", (header + "IMP-9,一,10.00\n").encode(), mapping="product_sheet", start="1"
    )
    _run(jxc.app)
    body = header + "IMP-9,一,12.00\nIMP-8,二,5.00\nIMP-8,二,5.00\nIMP-7,三,1.00\nIMP-7,三改,2.00\n"
    job = _upload(jxc.purchaser, "b.csv", body.encode(), mapping="product_sheet", start="1").get_json()
    _run(jxc.app)
    outcomes = [r["outcome"] for r in _results(jxc.purchaser, job["id"])]
    assert outcomes == ["updated", "created", "duplicate", "created", "updated"]
    products = _products(jxc)
    assert products["IMP-9"]["sale_price"] == "12.00"
    assert (products["IMP-7"]["name"], products["IMP-7"]["sale_price"]) == ("三改", "2.00")


def test_a_row_the_record_service_refuses_is_rejected_alone(jxc):
    body = "货号,品名,条码\nIMP-40,甲,690001\nIMP-41,乙,690001\nIMP-42,丙,690002\n"  # a unique barcode twice
    job = _upload(jxc.purchaser, "u.csv", body.encode(), mapping="product_sheet", start="1").get_json()
    _run(jxc.app)
    results = _results(jxc.purchaser, job["id"])
    assert [r["outcome"] for r in results] == ["created", "rejected", "created"]
    assert "barcode" in results[1]["errors"]
    assert set(_products(jxc)) == {"IMP-40", "IMP-42"}


def test_a_role_that_may_not_create_products_cannot_import(jxc):
    response = _upload(jxc.warehouse, "products.csv", SAMPLE.read_bytes(), mapping="product_sheet")
    assert response.status_code == 403
    assert _products(jxc) == {}


def test_only_the_owner_and_administrators_see_a_job_and_its_results(jxc):
    job = _upload(jxc.purchaser, "p.csv", SAMPLE.read_bytes(), mapping="product_sheet", start="1").get_json()
    _run(jxc.app)
    for other in (jxc.warehouse, jxc.sales):
        assert other.get(f"/api/jobs/{job['id']}").status_code == 404
        assert other.get(f"/api/jobs/{job['id']}/result").status_code == 404
        assert other.get(f"/api/import-jobs/{job['id']}/preview").status_code == 404
        assert other.post(f"/api/jobs/{job['id']}/cancel").status_code == 404
    assert len(_results(jxc.admin, job["id"])) == 5


def test_inferred_columns_from_a_gbk_file_with_semicolons_and_a_preview_with_cell_errors(jxc):
    body = "SKU;品名;Sale Price;Whatever\nIMP-20;国标编码;9.90;x\nIMP-21;第二;-1;y\n".encode("gb18030")
    job = _upload(jxc.purchaser, "gbk.csv", body).get_json()
    assert job["status"] == "new"
    assert job["columns"] == {"SKU": "sku", "品名": "name", "Sale Price": "sale_price"}
    assert job["mappings"] == ["product_sheet"]
    preview = jxc.purchaser.get(f"/api/import-jobs/{job['id']}/preview").get_json()["rows"]
    assert [r["ok"] for r in preview] == [True, False]
    assert list(preview[1]["errors"]) == ["Sale Price"]
    assert _products(jxc) == {}  # a preview writes nothing
    changed = jxc.purchaser.put(
        f"/api/import-jobs/{job['id']}", json={"columns": {"SKU": "sku", "品名": "name"}}
    )
    assert changed.status_code == 200 and changed.get_json()["columns"] == {"SKU": "sku", "品名": "name"}
    assert jxc.purchaser.post(f"/api/import-jobs/{job['id']}/start").status_code == 202
    _run(jxc.app)
    assert set(_products(jxc)) == {"IMP-20", "IMP-21"}
    assert _products(jxc)["IMP-20"]["sale_price"] is None  # the unmapped column is left out
    bad = jxc.purchaser.put(f"/api/import-jobs/{job['id']}", json={"columns": {"SKU": "sku"}})
    assert bad.status_code == 400  # started: the choice is kept


def _xlsx(rows: list[list], patch: dict[str, str] | None = None) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    if not patch:
        return buffer.getvalue()
    source, out = zipfile.ZipFile(io.BytesIO(buffer.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                for old, new in patch.items():
                    text = text.replace(old, new)
                data = text.encode()
            target.writestr(item, data)
    return out.getvalue()


def test_xlsx_floats_are_exact_more_places_refused_and_formulas_read_as_their_values(jxc):
    rows = [["货号", "品名", "售价", "进价"], ["IMP-30", "表格一", 19.99, 0.1], ["IMP-31", "表格二", 19.999, 1],
            ["IMP-32", "=B2", 5, 1], [None, None, None, None]]  # fmt: skip
    # openpyxl writes no cached value for a formula: give it one as a spreadsheet program would
    content = _xlsx(rows, {'<c r="B4"><f>B2</f><v /></c>': '<c r="B4" t="str"><f>B2</f><v>公式值</v></c>'})
    response = _upload(jxc.purchaser, "p.xlsx", content, mapping="product_sheet", start="1")
    assert response.status_code == 201, response.get_json()
    job = response.get_json()
    assert job["total"] == 3
    _run(jxc.app)
    outcomes = [r["outcome"] for r in _results(jxc.purchaser, job["id"])]
    assert outcomes == ["created", "rejected", "created"]
    products = _products(jxc)
    assert products["IMP-30"]["sale_price"] == "19.99" and products["IMP-30"]["purchase_cost"] == "0.10"
    assert products["IMP-32"]["name"] == "公式值"


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * 50_000_000 + b"</a>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "status"),
    [
        ("products.txt", b"sku\nA\n", 400),
        ("products.csv", b"", 400),
        ("products.csv", "货号,品名\n".encode(), 400),
        ("products.csv", "货号,货号\nA,B\n".encode(), 400),
        ("products.csv", (",".join(f"c{i}" for i in range(10_000)) + "\n1\n").encode(), 413),
        ("products.csv", b'sku,name\n"A,"B\n"C,D\n', 400),
        ("products.xlsx", b"not a zip", 400),
        ("products.xlsx", _zip_bomb(), 413),
    ],
    ids=[
        "extension",
        "empty",
        "header-only",
        "duplicate-headers",
        "10k-columns",
        "bad-quotes",
        "not-xlsx",
        "bomb",
    ],
)
def test_hostile_files_are_refused_and_nothing_is_kept(jxc, name, content, status):
    response = _upload(jxc.purchaser, name, content)
    assert response.status_code == status, response.get_json()
    with jxc.app.extensions["lowcode"].db.read() as session:
        assert session.scalar(store.sa.select(store.sa.func.count()).select_from(store._J)) == 0


def test_a_file_over_the_size_limit_is_a_413(jxc, monkeypatch):
    monkeypatch.setattr("lowcode.api.imports.MAX_FILE_BYTES", 1000)
    monkeypatch.setattr("lowcode.api.imports.UPLOAD_SLACK", 0)
    response = _upload(jxc.purchaser, "big.csv", b"sku\n" + b"A\n" * 2000)
    assert response.status_code == 413


def test_a_cancelled_job_writes_nothing_and_a_lost_lease_is_taken_over(jxc):
    job = _upload(jxc.purchaser, "p.csv", SAMPLE.read_bytes(), mapping="product_sheet", start="1").get_json()
    assert jxc.purchaser.post(f"/api/jobs/{job['id']}/cancel").get_json()["status"] == "cancelled"
    assert _run(jxc.app) == []
    assert _products(jxc) == {}

    job = _upload(jxc.purchaser, "q.csv", SAMPLE.read_bytes(), mapping="product_sheet", start="1").get_json()
    services = jxc.app.extensions["lowcode"]
    with services.db.write() as session:  # a runner claims it and dies before doing anything
        claim = store.claim_next(session, store.utcnow(), 60, ["import"])
    assert claim is not None and claim.job.id == job["id"]
    assert _run(jxc.app) == []  # its lease has not passed
    later = store.utcnow() + store.dt.timedelta(seconds=61)
    with services.db.write() as session:
        again = store.claim_next(session, later, 60, ["import"])
    assert again is not None and again.job.attempts == 2
    with services.db.write() as session:  # the dead runner's checkpoint is refused
        assert not store.checkpoint(session, claim, later, 60, done=1)
    JobRunner(services)._run(again)
    assert jxc.purchaser.get(f"/api/jobs/{job['id']}").get_json()["counts"]["created"] == 3


def test_the_runner_thread_runs_a_queued_job(jxc):
    job = _upload(jxc.purchaser, "p.csv", SAMPLE.read_bytes(), mapping="product_sheet", start="1").get_json()
    stop = threading.Event()
    thread = JobRunner(jxc.app.extensions["lowcode"]).start_thread(stop, poll=0.05)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if jxc.purchaser.get(f"/api/jobs/{job['id']}").get_json()["status"] == "done":
                break
            time.sleep(0.05)
        assert jxc.purchaser.get(f"/api/jobs/{job['id']}").get_json()["status"] == "done"
    finally:
        stop.set()
        thread.join(10)
    assert len(_products(jxc)) == 3
    assert Decimal(_products(jxc)["IMP-001"]["purchase_cost"]) == Decimal("12.50")
    assert json.loads(json.dumps(_products(jxc)["IMP-002"]["barcode"])) == "6900000000012"


class _Crash(BaseException):
    """The runner's process dying mid-job (not an error the runner could record)."""


def test_a_job_whose_runner_died_resumes_after_its_last_committed_chunk(jxc, monkeypatch):
    from lowcode.imports import job as import_job

    monkeypatch.setattr(import_job, "CHUNK", 2)
    real, calls = import_job.ImportJob._chunk, []

    def dying(*args):
        calls.append(args[6])  # the chunk's first row
        if len(calls) == 2:
            raise _Crash
        return real(*args)

    monkeypatch.setattr(import_job.ImportJob, "_chunk", staticmethod(dying))
    job = _upload(jxc.purchaser, "p.csv", SAMPLE.read_bytes(), mapping="product_sheet", start="1").get_json()
    with pytest.raises(_Crash):
        _run(jxc.app)
    status = jxc.purchaser.get(f"/api/jobs/{job['id']}").get_json()
    assert (status["status"], status["done"], status["counts"]["created"]) == ("running", 2, 2)
    assert set(_products(jxc)) == {"IMP-001", "IMP-002"}  # the second chunk was rolled back with the crash
    services = jxc.app.extensions["lowcode"]
    with services.db.write() as session:
        claim = store.claim_next(session, store.utcnow() + store.dt.timedelta(seconds=61), 60, ["import"])
    JobRunner(services)._run(claim)
    assert calls == [0, 2, 2, 4]  # resumed at row 2, not from the start
    results = _results(jxc.purchaser, job["id"])
    assert [r["outcome"] for r in results] == ["created", "created", "created", "rejected", "rejected"]
    assert jxc.purchaser.get(f"/api/jobs/{job['id']}").get_json()["counts"]["created"] == 3


def test_old_jobs_and_their_files_are_purged_by_the_scheduler(jxc):
    from lowcode.worker import Scheduler

    done = _upload(jxc.purchaser, "p.csv", SAMPLE.read_bytes(), mapping="product_sheet", start="1").get_json()
    _run(jxc.app)
    fresh = _upload(jxc.purchaser, "q.csv", b"sku\nA\n").get_json()  # uploaded, never started
    services = jxc.app.extensions["lowcode"]
    now = store.utcnow()
    assert Scheduler(services).run_pending(now)["purge_jobs"] == 0
    assert (
        Scheduler(services).run_pending(now + store.dt.timedelta(days=2))["purge_jobs"] == 1
    )  # the unstarted
    assert jxc.purchaser.get(f"/api/jobs/{fresh['id']}").status_code == 404
    assert jxc.purchaser.get(f"/api/jobs/{done['id']}").status_code == 200
    assert Scheduler(services).run_pending(now + store.dt.timedelta(days=8))["purge_jobs"] == 1
    with services.db.read() as session:
        assert session.scalar(store.sa.select(store.sa.func.count()).select_from(store._F)) == 0
    assert len(_products(jxc)) == 3  # the records stay
