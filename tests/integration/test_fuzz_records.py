"""Property-based fuzzing of the record routes: random JSON bodies and query strings never make a 5xx.

Deterministic (``derandomize``) and bounded, so it runs in seconds on each database.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CUSTOMER = "/api/data/demo/customer"
FIELDS = ["code", "name", "email", "phone", "credit_limit", "level", "version", "id", "owner", "deleted_at"]
FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

texts = st.text(alphabet=st.characters(codec=None), max_size=12) | st.sampled_from(
    ["1_000", "١٢", "NaN", "1e999999", "-0", "\x00", "\ud800", "9" * 40, "2026-02-30", "$user.id", "%"]
)
numbers = (
    st.integers(min_value=-(2**80), max_value=2**80)
    | st.sampled_from([2**63, -(2**63) - 1, 10**40])
    | st.decimals(allow_nan=False, allow_infinity=False)
)
scalars = st.none() | st.booleans() | numbers | texts
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
bodies = st.dictionaries(st.sampled_from(FIELDS) | texts, values, max_size=5) | values
conditions = (
    st.fixed_dictionaries(
        {
            "field": st.sampled_from(FIELDS) | texts,
            "op": st.sampled_from(["=", ">", "contains", "in", "between", "x"]),
        },
        optional={"value": values},
    )
    | values
)

tags = st.sampled_from(["int", "str", "Decimal", "bool", "date", "datetime", "NoneType", "x"])
cursors = st.lists(st.tuples(tags, scalars).map(list), min_size=1, max_size=3)
"""Cursors shaped like the ones the list writes (``[[type, value], ...]``), with any values."""


def _json(value) -> str:
    return json.dumps(value, default=str)  # Decimal as a bare string; surrogates escaped as \\udxxx


def _assert_not_5xx(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]


@FUZZ
@given(body=bodies)
def test_create_never_fails_with_a_server_error(demo_api, body):
    response = demo_api.client.post(
        CUSTOMER, data=_json(body), headers={**demo_api.headers, "Content-Type": "application/json"}
    )
    _assert_not_5xx(response)


@FUZZ
@given(body=bodies, tag=st.none() | texts.map(lambda t: f'"{t}"') | texts)
def test_update_never_fails_with_a_server_error(demo_api, body, tag):
    headers = {**demo_api.headers, "Content-Type": "application/json"}
    if tag is not None and tag.isascii() and "\x00" not in tag and "\n" not in tag and "\r" not in tag:
        headers["If-Match"] = tag
    _assert_not_5xx(demo_api.client.patch(f"{CUSTOMER}/1", data=_json(body), headers=headers))


@FUZZ
@given(
    condition=st.none() | conditions,
    sort=st.none() | st.lists(st.sampled_from(FIELDS) | texts, max_size=3).map(",".join),
    limit=st.none() | texts | st.integers(min_value=-5, max_value=10**6).map(str),
    after=st.none()
    | texts
    | (cursors | values).map(lambda v: base64.urlsafe_b64encode(_json(v).encode()).decode()),
    q=st.none() | texts,
)
def test_list_never_fails_with_a_server_error(demo_api, condition, sort, limit, after, q):
    params = {"filter": None if condition is None else _json(condition), "sort": sort, "limit": limit}
    params.update(after=after, q=q)
    query = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in params.items() if v is not None})
    _assert_not_5xx(demo_api.get(f"{CUSTOMER}?{query}"))


@FUZZ
@given(
    sort=st.sampled_from(["", "name", "-credit_limit", "created_at", "level,-id"]),
    cursor=cursors | values,
)
def test_list_never_fails_on_a_forged_cursor(demo_api, sort, cursor):
    after = base64.urlsafe_b64encode(_json(cursor).encode()).decode()
    _assert_not_5xx(demo_api.get(f"{CUSTOMER}?{urlencode({'sort': sort, 'after': after})}"))
