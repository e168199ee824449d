"""The workflow diagram's layered layout: start states in the first column, each state right of the states
leading to it (cycles broken), rows ordered, arrows between the right boxes, spread apart when parallel, and
the drawing big enough for everything on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lowcode.workflows.layout import BOX_H, BOX_W, Edge, layers_of, layout, text_width
from lowcode.workflows.model import as_list

ROOT = Path(__file__).resolve().parents[3]


def edges(*pairs: tuple[str, str, str]) -> list[Edge]:
    return [Edge(name, src, dst, name) for name, src, dst in pairs]


def test_a_chain_is_laid_out_left_to_right():
    d = layout(["a", "b", "c"], ["a"], edges(("go", "a", "b"), ("end", "b", "c")))
    assert [(b.state, b.layer, b.row) for b in d.boxes] == [("a", 0, 0), ("b", 1, 0), ("c", 2, 0)]
    assert d.box("a").x < d.box("b").x < d.box("c").x
    assert all(a.kind == "forward" for a in d.arrows)


def test_a_state_sits_right_of_the_furthest_state_leading_to_it():
    # cancel reaches 'cancelled' from draft, confirmed and shipped: it goes right of all of them
    layers = layers_of(
        ["draft", "confirmed", "shipped", "cancelled"],
        ["draft"],
        edges(
            ("c", "draft", "confirmed"),
            ("s", "confirmed", "shipped"),
            ("x1", "draft", "cancelled"),
            ("x2", "confirmed", "cancelled"),
            ("x3", "shipped", "cancelled"),
        ),
    )
    assert layers == {"draft": 0, "confirmed": 1, "shipped": 2, "cancelled": 3}


def test_a_cycle_is_broken_and_its_way_back_drawn_below():
    d = layout(
        ["open", "review", "done"],
        ["open"],
        edges(("send", "open", "review"), ("back", "review", "open"), ("ok", "review", "done")),
    )
    assert [b.layer for b in d.boxes] == [0, 1, 2]
    back = next(a for a in d.arrows if a.transition == "back")
    assert back.kind == "back"
    lowest_box = max(b.y + b.h for b in d.boxes)
    assert back.label_y > lowest_box and d.height > back.label_y


def test_start_states_come_first_in_their_column_and_unreached_states_are_placed_too():
    d = layout(["b", "a", "orphan", "c"], ["a", "b"], edges(("x", "a", "c")))
    assert d.box("a").layer == d.box("b").layer == 0
    assert d.box("orphan").layer == 0 and d.box("orphan").row == 2  # after the start states
    assert d.box("b").row == 0 and d.box("a").row == 1  # declared order among start states


def test_same_column_arrows_bend_to_the_side():
    d = layout(["a", "b", "c"], ["a"], edges(("x", "a", "b"), ("y", "a", "c"), ("z", "b", "c")))
    z = next(a for a in d.arrows if a.transition == "z")
    assert d.box("b").layer == 1 and d.box("c").layer == 2 and z.kind == "forward"
    d = layout(
        ["a", "b", "c"], ["a"], edges(("x", "a", "b"), ("y", "a", "c"), ("z", "c", "b"), ("w", "b", "c"))
    )
    kinds = {a.transition: a.kind for a in d.arrows}
    assert kinds["w"] == "forward" and kinds["z"] == "back"


def test_several_arrows_between_two_states_are_spread_apart():
    d = layout(["a", "b"], ["a"], edges(("one", "a", "b"), ("two", "a", "b")))
    one, two = d.arrows
    assert one.d != two.d and one.label_y != two.label_y


def test_unknown_states_and_self_loops_are_left_out():
    d = layout(["a", "b"], ["a"], edges(("x", "a", "ghost"), ("y", "a", "a"), ("z", "a", "b")))
    assert [a.transition for a in d.arrows] == ["z"]


def test_the_drawing_holds_every_box_and_label():
    d = layout(
        ["a", "b", "c", "d"],
        ["a"],
        edges(("x", "a", "b"), ("y", "a", "c"), ("z", "a", "d"), ("back", "d", "a")),
    )
    for b in d.boxes:
        assert b.x >= 0 and b.x + BOX_W <= d.width and b.y >= 0 and b.y + BOX_H <= d.height
    for a in d.arrows:
        assert a.label_x - a.label_w // 2 >= 0 and a.label_x + a.label_w // 2 <= d.width
        assert a.label_y - 10 >= 0 and a.label_y + 10 <= d.height


def test_label_widths_count_wide_characters_double():
    assert text_width("确认") > text_width("ab")
    assert text_width("确认") == text_width("abcd")


@pytest.mark.parametrize("path", sorted((ROOT / "app_templates" / "jxc" / "workflows").glob("*.json")))
def test_every_jxc_workflow_lays_out_with_its_start_states_first(path):
    body = json.loads(path.read_text())
    states = [s["name"] for s in body["states"]]
    found = [Edge(t["name"], s, t["to"], t["name"]) for t in body["transitions"] for s in as_list(t["from"])]
    d = layout(states, as_list(body["initial"]), found)
    assert {b.state for b in d.boxes if b.layer == 0} >= set(as_list(body["initial"]))
    assert len(d.arrows) == len(found)
    for box in d.boxes:  # no two boxes overlap
        assert sum(1 for o in d.boxes if (o.x, o.y) == (box.x, box.y)) == 1
