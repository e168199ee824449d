"""`lowcode deliveries replay` (through click's CliRunner, against the test's database): dead letters put
back to pending and delivered again with their original ids; a malformed range refused, nothing changed."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from lowcode.cli import main
from lowcode.core.models import Delivery

from .conftest import create, webhook


def _statuses(app) -> list[tuple[str, int]]:
    with app.extensions["lowcode"].db.read() as s:
        rows = s.execute(sa.select(Delivery.status, Delivery.attempts).order_by(Delivery.id)).all()
    return [tuple(r) for r in rows]


def _cli(monkeypatch, app, *args: str):
    monkeypatch.setenv("LOWCODE_DATABASE_URL", app.extensions["lowcode"].settings["DATABASE_URL"])
    monkeypatch.setenv("LOWCODE_SECRET_KEY", "cli-test-secret")
    return CliRunner().invoke(main, ["deliveries", "replay", *args])


def test_the_cli_requeues_dead_letters_and_they_are_delivered(
    app, api, install, receivers, loop, monkeypatch
):
    loop.dispatcher.numbers.max_attempts = 1
    install([webhook("all_items", receivers["a"].url), webhook("other", receivers["b"].url)])
    receivers["a"].down = True
    made = [create(api, name=f"d{i}", qty=i) for i in range(3)]
    loop.until(lambda: sorted(_statuses(app)) == [("dead", 1)] * 3 + [("delivered", 1)] * 3)
    ids_before = {e["id"] for e in receivers["b"].seen.values()}

    refused = _cli(monkeypatch, app, "--since", "2026-01-01T00:00:00")  # a range needs both ends
    assert refused.exit_code != 0 and "needs both since and until" in refused.output
    assert sorted(_statuses(app)) == [("dead", 1)] * 3 + [("delivered", 1)] * 3

    receivers["a"].down = False
    result = _cli(monkeypatch, app, "--dead", "--app", "shop", "--subscription", "all_items")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "replayed 3 deliveries"
    assert sorted(_statuses(app)) == [("delivered", 1)] * 3 + [("pending", 0)] * 3
    loop.until(lambda: sorted(_statuses(app)) == [("delivered", 1)] * 6)
    assert sorted(e["record_id"] for e in receivers["a"].seen.values()) == sorted(m["id"] for m in made)
    assert receivers["a"].duplicates == 0
    assert {e["id"] for e in receivers["b"].seen.values()} == ids_before  # the other subscription untouched
    assert receivers["b"].duplicates == 0

    again = _cli(monkeypatch, app, "--dead")
    assert again.exit_code == 0 and again.output.strip() == "replayed 0 deliveries"
