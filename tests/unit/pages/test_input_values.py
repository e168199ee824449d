"""What a form's input shows for a stored decimal: as many places as the field's style shows, never fewer
digits than the value has (a quantity stored as 2.000 is typed as 2; money keeps 2.50; costs keep 4 places)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from lowcode.fields import register_builtin_field_types
from lowcode.pages.binding import to_input
from lowcode.runtime.compiler import compile_entity

register_builtin_field_types()
ENTITY = {
    "name": "line", "label": "Line",
    "fields": [
        {"name": "qty", "type": "decimal", "options": {"scale": 3}},
        {"name": "price", "type": "money"},
        {"name": "cost", "type": "decimal", "options": {"scale": 4, "display_scale": 4}},
    ],
}  # fmt: skip


@pytest.mark.parametrize(("field", "stored", "shown"), [
    ("qty", "2.000", "2"), ("qty", "2.500", "2.5"), ("qty", "0.125", "0.125"), ("qty", "100", "100"),
    ("price", "2.50", "2.50"), ("price", "2.00", "2.00"), ("cost", "10.0000", "10.0000"),
])  # fmt: skip
def test_a_stored_decimal_is_typed_as_its_field_shows_it(field, stored, shown):
    entity = compile_entity("t", ENTITY, 1, sa.MetaData())
    assert to_input(entity.fields[field], Decimal(stored)) == shown
