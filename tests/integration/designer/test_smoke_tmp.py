import re
from tests.integration.pages.helpers import text

def base_of(page):
    return re.search(r'name="base" value="(\d+)"', page).group(1)

def test_smoke(designer):
    r = designer.post("/design", {"name": "shop", "label:en": "Shop", "label:zh-CN": "商店"})
    assert r.status_code == 303, text(r)
    r = designer.post("/design/shop/entities", {"name": "item", "label:en": "Item"})
    assert r.status_code == 303, text(r)
    page = text(designer.get("/design/shop/entity/item"))
    for t in ["money", "select", "date", "link", "formula", "autonumber", "child_table", "rollup"]:
        b = base_of(page)
        r = designer.post("/design/shop/entity/item/fields", {"type": t, "base": b})
        assert r.status_code == 303, (t, re.findall(r"<code>[^<]*</code>: [^<]*", text(r)))
        page = text(designer.get(r.headers["Location"]))
    print(page[:200])
    r = designer.get("/design/shop/publish")
    print(text(r)[-3000:])
    assert r.status_code == 200
