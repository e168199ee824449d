"""The JXC pages in a real browser as each role would use them, in English and Chinese, at 1366 px and 390 px.

Sales creates an order of three lines through the link picker, sees the amounts and the total before saving,
confirms it, and sees an over-stock refusal on the line that caused it; warehouse posts a delivery; finance
opens a voucher with its entries and exports receivables to XLSX. On every page visited: nothing wider than
the screen, and on the Chinese pages none of the platform's own English phrases. The interface language comes
from the user's saved preference (set through the language switcher, then a fresh sign-in).

One server and one browser for the module; a context per role, language and width. Screenshots are kept in
$LOWCODE_TEST_ARTIFACTS (default: a temporary directory). Skipped without Chromium unless
LOWCODE_REQUIRE_SERVICES=1, as tests/e2e/test_phone_width.py.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from babel.messages.pofile import read_po

from lowcode.app import create_app
from tests.conftest import ApiClient, login
from tests.dbs import copy_of
from tests.e2e.live import CHROMIUM, ROOT, live_server, require_browser
from tests.e2e.test_phone_width import FLAGS
from tests.integration.jxc.conftest import PASSWORD

WIDTHS = {1366: {"width": 1366, "height": 900}, 390: {"width": 390, "height": 844}}
CATALOGUE = ROOT / "lowcode" / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po"
DAY = "2026-11-20"
ROLES = ("admin", "purchaser", "warehouse", "sales", "finance")


def english_phrases() -> set[str]:
    """The platform's own English phrases of two words or more (each msgid, split at its placeholders) whose
    Chinese translation differs from them: none of these may show on a Chinese page."""
    with CATALOGUE.open("rb") as handle:
        catalog = read_po(handle)
    phrases = set()
    for message in catalog:
        if not message.id or not isinstance(message.id, str) or message.string == message.id:
            continue
        for part in re.split(r"%\(\w+\)[sd]|%[sd]|\{\w*\}", message.id):
            part = part.strip(" .,:;!?()\"'-")
            if len(part.split()) >= 2:
                phrases.add(part)
    return phrases


@dataclass
class Site:
    """The server's address, the API as each role, and the ids the pages are visited with."""

    base: str
    api: dict
    ids: dict
    shots: Path

    def create(self, role: str, entity: str, body: dict) -> dict:
        response = self.api[role].post(f"/api/data/jxc/{entity}", json=body)
        assert response.status_code == 201, (entity, response.get_json())
        return response.get_json()

    def get(self, entity: str, record_id: int) -> dict:
        return self.api["admin"].get(f"/api/data/jxc/{entity}/{record_id}").get_json()

    def post_doc(self, role: str, entity: str, record_id: int) -> None:
        body = {"status": "posted", "version": self.get(entity, record_id)["version"]}
        response = self.api[role].patch(f"/api/data/jxc/{entity}/{record_id}", json=body)
        assert response.status_code == 200, response.get_json()


def _stock(site: Site) -> None:
    """A third product, stock of all three in WH-SH, and a posted delivery (its voucher and receivable)."""
    ids = site.ids
    body = {"sku": "DR-RED-S", "name": "连衣裙 红 S", "purchase_cost": "30.00", "sale_price": "89.00",
            "reorder_level": "5"}  # fmt: skip
    ids["product"]["DR-RED-S"] = site.create("purchaser", "product", body)["id"]
    lines = [{"product": ids["product"][sku], "qty": qty, "unit_price": "10.00"}
             for sku, qty in [("TS-WHT-M", "100"), ("JN-BLU-32", "50"), ("DR-RED-S", "20")]]  # fmt: skip
    body = {
        "supplier": ids["supplier"],
        "warehouse": ids["wh"]["WH-SH"],
        "receipt_date": "2026-11-01",
        "lines": lines,
    }
    site.post_doc("warehouse", "purchase_receipt", site.create("warehouse", "purchase_receipt", body)["id"])
    ids["delivery"] = _delivery(site, "5")
    site.post_doc("warehouse", "delivery", ids["delivery"])
    vouchers = site.api["finance"].get("/api/data/jxc/voucher?limit=50").get_json()["data"]
    ids["voucher"] = next(v["id"] for v in vouchers if v.get("source_number", "").startswith("DN"))


def _delivery(site: Site, qty: str) -> int:
    body = {"customer": site.ids["customer"], "warehouse": site.ids["wh"]["WH-SH"], "delivery_date": DAY,
            "lines": [{"product": site.ids["product"]["TS-WHT-M"], "qty": qty, "unit_price": "29.90"}]}  # fmt: skip
    return site.create("warehouse", "delivery", body)["id"]


@pytest.fixture(scope="module")
def site(jxc_seed, tmp_path_factory):
    require_browser()
    url, seed_ids = jxc_seed
    shots = Path(os.environ.get("LOWCODE_TEST_ARTIFACTS") or tmp_path_factory.mktemp("shots")) / "jxc_roles"
    shots.mkdir(parents=True, exist_ok=True)
    with copy_of(url, tmp_path_factory.mktemp("e2e_jxc")) as copy:
        app = create_app({"DATABASE_URL": copy, "SECRET_KEY": "test-secret"})
        api = {}
        for role, password in [("admin", "root-pass-2026")] + [(r, PASSWORD) for r in ROLES[1:]]:
            client = app.test_client()
            api[role] = ApiClient(client, login(client, role, password))
        with live_server(app) as base:
            site = Site(base, api, {**seed_ids, "product": dict(seed_ids["product"])}, shots)
            _stock(site)
            yield site
        app.extensions["lowcode"].db.dispose()


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


class Visit:
    """One role's browser context in one language at one width, checking each page it shows."""

    def __init__(self, site: Site, browser, role: str, lang: str, width: int, state=None):
        self.site, self.role, self.lang, self.width = site, role, lang, width
        options = {"viewport": WIDTHS[width], "storage_state": state, "locale": lang.replace("_", "-")}
        if width < 500:
            options.update(is_mobile=True, has_touch=True)
        self.context = browser.new_context(**options)
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.accept()))

    def sign_in(self) -> None:
        password = "root-pass-2026" if self.role == "admin" else PASSWORD
        self.page.goto(f"{self.site.base}/login")
        self.page.fill("input[name=username]", self.role)
        self.page.fill("input[name=password]", password)
        self.page.click("form[action='/login'] button[type=submit]")
        self.page.wait_for_load_state()

    def open(self, path: str, name: str) -> None:
        self.page.goto(self.site.base + path)
        self.check(name)

    def check(self, name: str) -> None:
        """The page fits the screen and, in Chinese, shows no English phrase of the platform; a screenshot."""
        page = self.page
        assert page.evaluate("document.documentElement.lang") == self.lang.replace("_", "-"), page.url
        self.page.screenshot(path=str(self.site.shots / f"{self.role}-{self.lang}-{self.width}-{name}.png"),
                             full_page=True)  # fmt: skip
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= self.width, (
            f"{page.url} is {wide} px wide at {self.width} px ({self.role}, {self.lang})"
        )
        if self.width < 500:
            beyond = page.evaluate(CELLS_BEYOND_THE_SCREEN)
            assert not beyond, (
                f"{page.url}: table cells off the {self.width} px screen ({self.role}): {beyond}"
            )
        if self.lang == "zh_CN":
            body = page.evaluate("document.body.innerText")
            found = sorted(p for p in PHRASES if p in body)
            _note_english(self.site.shots, f"{self.role}-{self.width}-{name} {page.url}", body)
            assert not found, f"English on the Chinese page {page.url} ({self.role}): {found}"

    def close(self) -> None:
        self.context.close()


PHRASES = english_phrases()
# Table cells of rows (not the headings, kept for screen readers) that do not lie within the screen's width,
# scroll boxes or not: on a phone every column of a list or of a document's lines must be on screen.
CELLS_BEYOND_THE_SCREEN = """
[...document.querySelectorAll("tbody td, tbody th, tfoot td, tfoot th")]
  .filter((cell) => !cell.closest(".calendar-month, template"))
  .map((cell) => [cell, cell.getBoundingClientRect()])
  .filter(([cell, box]) => box.width > 0 && (box.left < -1 || box.right > window.innerWidth + 1))
  .map(([cell, box]) => `${(cell.dataset.label || cell.innerText).trim().slice(0, 20)} at ${Math.round(box.left)}`)
"""
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'-]+(?: [A-Za-z][A-Za-z'-]+)*")


def _note_english(shots: Path, where: str, body: str) -> None:
    """Keep the runs of English words a Chinese page shows (data and rule messages included) for a reader of
    the artefacts: english-on-zh-pages.txt. Only the platform's own phrases fail the test."""
    runs = sorted(
        {run for run in ENGLISH_RUN.findall(body) if len(run) > 3 and not run.isupper() and run != "English"}
    )
    if runs:
        with (shots / "english-on-zh-pages.txt").open("a", encoding="utf-8") as out:
            out.write(f"{where}: {' | '.join(runs)}\n")


def _signed_in(site: Site, browser, role: str, lang: str, width: int) -> Visit:
    """Choose the language with the switcher (saved for the user), then sign in afresh: the new session
    takes the saved language."""
    first = Visit(site, browser, role, "en", width)
    first.sign_in()
    first.page.click(f".language-switcher button[value={lang}]")
    first.page.wait_for_load_state()
    first.close()
    visit = Visit(site, browser, role, lang, width)
    visit.sign_in()
    assert visit.page.evaluate("document.documentElement.lang") == lang.replace("_", "-")
    return visit


def _tour(site: Site, browser, visit: Visit, pages: list[tuple[str, str]]) -> None:
    """The role's pages at both widths, signed in as ``visit`` is."""
    state = visit.context.storage_state()
    for width in WIDTHS:
        other = Visit(site, browser, visit.role, visit.lang, width, state)
        for name, path in pages:
            other.open(path, name)
        other.close()


def _expect():
    from playwright.sync_api import expect

    return expect


def _pick(page, control, text: str) -> None:
    """Type into a link picker and choose the first option the server offers."""
    control.click()
    _type_and_choose(page, control, text)


def _type_and_choose(page, control, text: str) -> None:
    """Type into a focused picker, choose the first option offered, and close it again."""
    control.press_sequentially(text)
    page.locator(".ts-dropdown .option:visible", has_text=text).first.click()
    page.keyboard.press("Escape")


def _order(visit: Visit, lines: list[tuple[str, str]]) -> int:
    page = visit.page
    visit.open("/a/jxc/sales_order/new", "order-form")
    _pick(page, page.locator("#f-customer-ts-control"), "华联")
    _pick(page, page.locator("#f-warehouse-ts-control"), "上海")
    page.fill("input[name=order_date]", DAY)
    rows = page.locator("[data-child-table=lines] tbody tr.child-row")
    for i in range(len(lines)):  # the rows first, each with its picker ready
        page.click("[data-child-table=lines] [data-add-row]")
        rows.nth(i).locator(".ts-control input").wait_for(state="attached")
    for i, (sku, qty) in enumerate(lines):
        row = rows.nth(i)
        picker = row.locator(".ts-control input")
        picker.focus()  # by keyboard: nothing another row's dropdown shows can be in the way
        _type_and_choose(page, picker, sku)
        _expect()(row.locator("input[name$='-unit_price']")).not_to_have_value("", timeout=15000)  # fetched
        # the quantity set as typing sets it (input, then change) without asking for the focus: under load a
        # product picker can take the focus back after its choice and catch keystrokes meant for the
        # quantity (a known picker defect, see the closing note of 2026-11-24); this test is about the compute
        row.locator("input[name$='-qty']").evaluate(
            "(el, v) => { el.value = v; for (const t of ['input', 'change'])"
            " el.dispatchEvent(new Event(t, {bubbles: true})); }",
            qty,
        )
        _expect()(row.locator("output").first).to_have_text(re.compile(r"[1-9]"), timeout=15000)  # computed
    return rows


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_sales_orders_through_the_picker_confirms_and_sees_a_refusal_on_its_line(site, browser, lang):
    width = 1366 if lang == "en" else 390
    visit = _signed_in(site, browser, "sales", lang, width)
    page = visit.page
    rows = _order(visit, [("TS-WHT-M", "2"), ("JN-BLU-32", "1"), ("DR-RED-S", "3")])
    # before saving: unit prices fetched from the products, the line amounts and the total computed
    total = page.locator("#f-total")
    total.filter(has_text=re.compile(r"445\.80")).wait_for(timeout=10000)
    amounts = [rows.nth(i).locator("output").first.inner_text() for i in range(3)]
    assert amounts == ["59.80 CNY", "119.00 CNY", "267.00 CNY"]  # money, as the field type formats it
    assert [rows.nth(i).locator("input[name$='-unit_price']").input_value() for i in range(3)] == [
        "29.90", "119.00", "89.00"]  # fmt: skip
    visit.check("order-form-filled")
    page.click("form.record-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/a/jxc/sales_order/\d+$"))
    order_id = int(page.url.rsplit("/", 1)[1])
    visit.check("order")
    page.click("form.transition-form[action$='/transitions/confirm'] button[type=submit]")
    page.wait_for_load_state()
    assert visit.dialogs and ("确认此订单" if lang == "zh_CN" else "Confirm this order") in visit.dialogs[-1]
    assert site.get("sales_order", order_id)["status"] == "confirmed"
    visit.check("order-confirmed")

    # a second order asks for more JN-BLU-32 than there is: the refusal stands on that line, not the other
    _order(visit, [("TS-WHT-M", "1"), ("JN-BLU-32", "999")])
    page.locator("#f-total").filter(has_text=re.compile(r"118,?910\.90")).wait_for(timeout=10000)
    page.click("form.record-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/a/jxc/sales_order/\d+$"))
    second = int(page.url.rsplit("/", 1)[1])
    page.click("form.transition-form[action$='/transitions/confirm'] button[type=submit]")
    page.wait_for_load_state()
    refused = page.locator("tr.table-danger[data-line-error='lines.1']")
    assert "牛仔裤 蓝 32" in refused.inner_text() and "999" in refused.inner_text()
    assert page.locator("[data-line-error='lines.0']").count() == 0
    assert site.get("sales_order", second)["status"] == "draft"
    visit.check("order-refused")
    _tour(site, browser, visit, [("home", "/a/jxc"), ("list", "/a/jxc/sales_order"),
                                 ("record", f"/a/jxc/sales_order/{order_id}"), ("form", "/a/jxc/sales_order/new")])  # fmt: skip
    visit.close()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_warehouse_posts_a_delivery(site, browser, lang):
    width = 390 if lang == "en" else 1366
    visit = _signed_in(site, browser, "warehouse", lang, width)
    page = visit.page
    delivery = _delivery(site, "2")
    visit.open("/a/jxc/delivery", "deliveries")
    visit.open(f"/a/jxc/delivery/{delivery}/edit", "delivery-form")
    visit.open(f"/a/jxc/delivery/{delivery}", "delivery")
    page.click("form.transition-form[action$='/transitions/post'] button[type=submit]")
    page.wait_for_load_state()
    assert site.get("delivery", delivery)["status"] == "posted"
    visit.check("delivery-posted")
    _tour(site, browser, visit, [("home", "/a/jxc"), ("list", "/a/jxc/stock_balance"),
                                 ("record", f"/a/jxc/delivery/{delivery}"), ("form", "/a/jxc/delivery/new")])  # fmt: skip
    visit.close()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_finance_opens_a_voucher_and_exports_receivables(site, browser, lang):
    visit = _signed_in(site, browser, "finance", lang, 1366)
    page = visit.page
    voucher = site.get("voucher", site.ids["voucher"])
    visit.open(f"/a/jxc/voucher/{voucher['id']}", "voucher")
    body = page.inner_text("body").replace(",", "")
    assert voucher["number"] in body
    entries = page.locator("table").filter(
        has_text=voucher["lines"][0]["debit"] or voucher["lines"][0]["credit"]
    )
    assert entries.count() >= 1 and len(voucher["lines"]) >= 2
    for line in voucher["lines"]:
        figure = line["debit"] if line["debit"] not in (None, "0.00") else line["credit"]
        assert figure in body, (figure, line)
    visit.open("/a/jxc/receivable", "receivables")
    with page.expect_download() as download:
        page.click("a[data-export=xlsx]")
    target = site.shots / f"finance-{lang}-receivables.xlsx"
    download.value.save_as(target)
    sheet = openpyxl.load_workbook(target).active
    cells = [[str(c) if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert len(cells) >= 2 and any("华联服饰" in " ".join(row) for row in cells[1:]), cells[:3]
    assert any("149.5" in " ".join(row) for row in cells[1:]), cells  # the delivery of 5 x 29.90
    # on a phone the totals row shows every money column's sum on screen (it used to be scrolled out of view)
    phone = Visit(site, browser, "finance", lang, 390, visit.context.storage_state())
    phone.open("/a/jxc/receivable", "receivables-phone")
    for name in ("amount", "received", "balance"):
        total = phone.page.locator(f"[data-total={name}]")
        box = total.bounding_box()  # not scrolled into view: that would scroll a table's own box sideways
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (name, box)
        assert "CNY" in total.inner_text()
    phone.close()
    _tour(site, browser, visit, [("home", "/a/jxc"), ("list", "/a/jxc/receivable"),
                                 ("record", f"/a/jxc/voucher/{voucher['id']}"),
                                 ("form", "/a/jxc/customer_payment/new")])  # fmt: skip
    visit.close()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("role", ["admin", "purchaser"])
def test_other_roles_pages_fit_and_are_translated(site, browser, role, lang):
    visit = _signed_in(site, browser, role, lang, 1366)
    product = site.ids["product"]["TS-WHT-M"]
    _tour(site, browser, visit, [("home", "/a/jxc"), ("list", "/a/jxc/product"),
                                 ("record", f"/a/jxc/product/{product}"), ("form", "/a/jxc/purchase_order/new")])  # fmt: skip
    visit.close()


def test_a_row_added_while_a_compute_is_pending_is_kept(site, browser):
    """The compute answer swaps only the computed cells (out of band), never the rows: a line added while the
    round trip is held up stays, and the line that was computed gets its price and amount."""
    visit = _signed_in(site, browser, "sales", "en", 390)
    page = visit.page
    visit.open("/a/jxc/sales_order/new", "order-form-pending")
    held = []

    def hold_first(route):
        if held:
            route.continue_()
        else:
            held.append(route)

    rows = page.locator("[data-child-table=lines] tbody tr.child-row")
    page.click("[data-child-table=lines] [data-add-row]")
    picker = rows.nth(0).locator(".ts-control input")
    picker.wait_for(state="attached")
    page.route("**/sales_order/compute", hold_first)
    with page.expect_request("**/sales_order/compute"):
        picker.focus()
        _type_and_choose(page, picker, "TS-WHT-M")
    page.click("[data-child-table=lines] [data-add-row]")  # while the compute is held up
    rows.nth(1).locator(".ts-control input").wait_for(state="attached")
    assert len(held) == 1 and rows.count() == 2
    held[0].continue_()  # the route lets every later compute through
    _expect()(rows.nth(0).locator("input[name$='-unit_price']")).to_have_value("29.90", timeout=15000)
    rows.nth(0).locator("input[name$='-qty']").fill("2")
    _expect()(rows.nth(0).locator("output").first).to_have_text(re.compile(r"59\.80"), timeout=15000)
    assert rows.count() == 2  # the line added meanwhile is still there, its picker ready
    _type_and_choose(page, rows.nth(1).locator(".ts-control input"), "JN-BLU-32")
    _expect()(rows.nth(1).locator("input[name$='-unit_price']")).to_have_value("119.00", timeout=15000)
    visit.check("order-form-pending")
    visit.close()


def test_a_product_changed_while_a_compute_is_pending_fetches_its_price(site, browser):
    """Picking another product sends a compute that fetches its price again; when typing replaces that
    request before its answer (hx-sync), the next one still carries the change: the new product's price."""
    visit = _signed_in(site, browser, "sales", "zh_CN", 1366)
    page = visit.page
    visit.open("/a/jxc/sales_order/new", "order-form-refetch")
    rows = page.locator("[data-child-table=lines] tbody tr.child-row")
    page.click("[data-child-table=lines] [data-add-row]")
    line = rows.nth(0)
    line.locator(".ts-control input").wait_for(state="attached")
    line.locator(".ts-control input").focus()
    _type_and_choose(page, line.locator(".ts-control input"), "TS-WHT-M")
    _expect()(line.locator("input[name$='-unit_price']")).to_have_value("29.90", timeout=15000)
    held = []
    page.route("**/sales_order/compute", lambda route: route.continue_() if held else held.append(route))
    with page.expect_request("**/sales_order/compute"):
        line.locator(".ts-control").click()
        _type_and_choose(page, line.locator(".ts-control input"), "JN-BLU-32")
    with page.expect_request("**/sales_order/compute") as replacing:
        line.locator("input[name$='-qty']").fill("3")  # replaces the held request
    assert "-product" in replacing.value.post_data.split("_changed=")[1].split("&")[0]
    held[0].continue_()
    _expect()(line.locator("input[name$='-unit_price']")).to_have_value("119.00", timeout=15000)
    _expect()(line.locator("output").first).to_have_text(re.compile(r"357\.00"), timeout=15000)
    visit.check("order-form-refetch")
    visit.close()
