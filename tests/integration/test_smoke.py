"""First end-to-end checks of the spine through the API."""


def test_demo_template_installs_and_lists(demo_api):
    response = demo_api.get("/api/data/demo/order?limit=5&sort=-order_date")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["total"] == 12
    assert len(body["data"]) == 5
    first = body["data"][0]
    assert first["number"].startswith("SO-")
