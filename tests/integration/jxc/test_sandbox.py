"""A sandbox of the JXC app: posted documents are copied as stored (their rules and workflows are not run
again on the copy: no double booking, no refused later state), customers' contact data masked."""

from __future__ import annotations

from tests.integration.jxc.test_documents import delivery, receipt


def test_a_sandbox_of_jxc_copies_posted_documents_as_they_are(jxc):
    j, sh, ts = jxc, jxc.wh["WH-SH"], jxc.product["TS-WHT-M"]
    customer = j.get("customer", j.customer)
    contact = {"phone": "13800001111", "email": "buyer@hualian.cn", "version": customer["version"]}
    assert j.admin.patch(j.url("customer", j.customer), json=contact).status_code == 200
    receipt(j, sh, ts, "100", "10.00", "2026-11-01")
    delivery(j, sh, ts, "30", "2026-11-02")
    made = j.admin.post("/api/sandboxes/jxc", json={"sample": 5})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["records"]["left_out_count"] == 0, made.get_json()["records"]["left_out"]
    copied = {d["status"] for d in j.admin.get("/api/data/jxc_sandbox/delivery").get_json()["data"]}
    assert copied == {"posted"}  # a later workflow state, copied as stored
    live_ledger = j.admin.get("/api/data/jxc/stock_ledger?limit=100").get_json()["data"]
    box_ledger = j.admin.get("/api/data/jxc_sandbox/stock_ledger?limit=100").get_json()["data"]
    assert len(box_ledger) == len(live_ledger) == 2  # copied, not booked again by the posting rules
    live_on_hand = [b["on_hand"] for b in j.admin.get("/api/data/jxc/stock_balance").get_json()["data"]]
    box_on_hand = [
        b["on_hand"] for b in j.admin.get("/api/data/jxc_sandbox/stock_balance").get_json()["data"]
    ]
    assert box_on_hand == live_on_hand and len(box_on_hand) == 1
    customers = j.admin.get("/api/data/jxc_sandbox/customer").get_json()["data"]
    assert [c["name"] for c in customers] == ["华联服饰"]
    assert customers[0]["phone"].startswith("555-") and customers[0]["email"].endswith("@example.com")
    assert j.admin.delete("/api/sandboxes/jxc_sandbox").status_code == 200
    assert j.admin.get("/api/data/jxc/stock_ledger").get_json()["data"]  # the live app untouched
