"""A workflow drawn as a layered diagram, computed in Python for a server-rendered SVG (no drawing library).

States are boxes in columns (layers) read left to right: the states a record starts in come first, and each
other state sits one column right of the furthest state a transition reaches it from (longest path, with the
transitions that lead back - those closing a cycle - left out of the layering). An arrow to the next column
goes straight across; one skipping columns runs along a lane of its own above the boxes, one going back along
a lane below them, so that no arrow crosses a box.
Within a column, start states come first, then states in the order of the states they are reached from
(barycentre), then in declared order. Transitions are arrows, one per source state, labelled; several arrows
between the same two states are spread apart.

Usage::

    diagram = layout(["draft", "done"], ["draft"], [Edge("finish", "draft", "done", "Finish")],
                     labels={"draft": "Draft", "done": "Done"})
    diagram.width, diagram.height, diagram.boxes, diagram.arrows   # coordinates in px for the SVG
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

BOX_W, BOX_H = 150, 44
GAP_X, GAP_Y = 120, 44
MARGIN = 24
SPREAD = 10
"""Distance between arrows joining the same two states."""
LANE = 30
"""Distance between the lanes above the boxes (arrows skipping columns) and below them (arrows going back)."""
SIDE_BULGE = 56
"""How far right of a column the arrows between two states of the same column bend."""


@dataclass(frozen=True)
class Edge:
    """One arrow to draw: a transition from one of its source states to its target."""

    transition: str
    source: str
    target: str
    label: str


@dataclass(frozen=True)
class Box:
    """A state's box: its place (column ``layer``, ``row``) and its rectangle in px."""

    state: str
    label: str
    layer: int
    row: int
    x: int
    y: int
    w: int = BOX_W
    h: int = BOX_H


@dataclass(frozen=True)
class Arrow:
    """A transition's arrow: the SVG path (``d``), where its label goes (centre) and how wide the label is."""

    transition: str
    source: str
    target: str
    label: str
    d: str
    label_x: int
    label_y: int
    label_w: int
    kind: str
    """``forward`` (to a later column), ``side`` (same column) or ``back`` (to an earlier column)."""


@dataclass(frozen=True)
class Diagram:
    """The whole drawing: its size and its boxes and arrows."""

    width: int
    height: int
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]

    def box(self, state: str) -> Box:
        """The box of a state."""
        return next(b for b in self.boxes if b.state == state)


def text_width(text: str, size: int = 12) -> int:
    """The approximate width in px of ``text`` at a font size (wide CJK characters count double)."""
    units = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return int(units * size * 0.6) + 10


def _back_edges(states: Sequence[str], order: Sequence[str], succ: Mapping[str, list[str]]) -> set:
    """The edges that close a cycle, found by a depth-first walk from ``order`` (start states first)."""
    back: set[tuple[str, str]] = set()
    done: set[str] = set()
    on_path: set[str] = set()

    def visit(node: str) -> None:
        on_path.add(node)
        for nxt in succ.get(node, ()):
            if nxt in on_path:
                back.add((node, nxt))
            elif nxt not in done:
                visit(nxt)
        on_path.discard(node)
        done.add(node)

    for node in order:
        if node not in done:
            visit(node)
    return back


def layers_of(states: Sequence[str], starts: Sequence[str], edges: Sequence[Edge]) -> dict[str, int]:
    """The column of each state: 0 for a state nothing leads to (start states, and states no transition
    reaches), else one more than the furthest state leading to it (cycles broken first)."""
    known = set(states)
    succ: dict[str, list[str]] = {s: [] for s in states}
    for e in edges:
        if e.source in known and e.target in known and e.target not in succ[e.source]:
            succ[e.source].append(e.target)
    order = [s for s in states if s in starts] + [s for s in states if s not in starts]
    back = _back_edges(states, order, succ)
    preds: dict[str, list[str]] = {s: [] for s in states}
    for src, targets in succ.items():
        for tgt in targets:
            if (src, tgt) not in back and src != tgt:
                preds[tgt].append(src)
    layer: dict[str, int] = {}

    def depth(node: str, seen: frozenset[str]) -> int:
        if node not in layer:
            options = [depth(p, seen | {node}) + 1 for p in preds[node] if p not in seen]
            layer[node] = 0 if node in starts else max(options, default=0)
        return layer[node]

    for s in order:
        depth(s, frozenset())
    return layer


def _rows(states: Sequence[str], starts: Sequence[str], layer: Mapping[str, int], edges) -> dict[str, int]:
    """The row of each state in its column: start states first, then by the mean row of the states
    leading to it (columns filled left to right), then in declared order."""
    declared = {s: i for i, s in enumerate(states)}
    row: dict[str, int] = {}
    for column in range(max(layer.values(), default=-1) + 1):
        members = [s for s in states if layer[s] == column]

        def key(state: str) -> tuple:
            placed = [row[e.source] for e in edges if e.target == state and e.source in row]
            centre = sum(placed) / len(placed) if placed else float(declared[state])
            return (state not in starts, centre, declared[state])

        for i, state in enumerate(sorted(members, key=key)):
            row[state] = i
    return row


def layout(
    states: Sequence[str],
    starts: Sequence[str],
    edges: Sequence[Edge],
    labels: Mapping[str, str] | None = None,
) -> Diagram:
    """The diagram of ``states`` (declared order), starting from ``starts``, with one arrow per edge
    (edges naming an unknown state are left out)."""
    labels = labels or {}
    known = set(states)
    edges = [e for e in edges if e.source in known and e.target in known and e.source != e.target]
    layer = layers_of(states, starts, edges)
    row = _rows(states, starts, layer, edges)
    over = [e for e in edges if layer[e.target] - layer[e.source] > 1]
    top = MARGIN + (len(over) * LANE + LANE // 2 if over else 0)
    boxes = {
        s: Box(
            s,
            labels.get(s, s),
            layer[s],
            row[s],
            MARGIN + layer[s] * (BOX_W + GAP_X),
            top + row[s] * (BOX_H + GAP_Y),
        )
        for s in states
    }
    columns = max(layer.values(), default=0) + 1
    rows = max(row.values(), default=0) + 1
    bottom = top + rows * (BOX_H + GAP_Y) - GAP_Y
    arrows = _arrows(edges, boxes, bottom, over)
    lowest = max([bottom] + [a.label_y + 12 for a in arrows])
    width = MARGIN * 2 + columns * (BOX_W + GAP_X) - GAP_X + SIDE_BULGE
    return Diagram(width, lowest + MARGIN, tuple(boxes[s] for s in states), tuple(arrows))


def _arrows(edges: Sequence[Edge], boxes: Mapping[str, Box], bottom: int, over: list[Edge]) -> list[Arrow]:
    """One arrow per edge: to the next column straight across, within a column bent to the side, further
    right along a lane above the boxes, back to an earlier column along a lane below them."""
    pairs: dict[tuple[str, str], list[Edge]] = {}
    for e in edges:
        pairs.setdefault(tuple(sorted((e.source, e.target))), []).append(e)
    arrows = []
    back_count = 0
    for e in edges:
        group = pairs[tuple(sorted((e.source, e.target)))]
        shift = int((group.index(e) - (len(group) - 1) / 2) * SPREAD * 2)
        a, b = boxes[e.source], boxes[e.target]
        if e in over:
            lane = MARGIN + (len(over) - 1 - over.index(e)) * LANE + LANE // 2
            arrows.append(_lane(e, a, b, lane, "over", over.index(e)))
        elif b.layer > a.layer:
            arrows.append(_forward(e, a, b, shift))
        elif b.layer == a.layer:
            arrows.append(_side(e, a, b, shift))
        else:
            back_count += 1
            arrows.append(_lane(e, a, b, bottom + LANE * back_count, "back", back_count))
    return arrows


def _forward(e: Edge, a: Box, b: Box, shift: int) -> Arrow:
    x1, y1 = a.x + a.w, a.y + a.h // 2 + shift // 2
    x2, y2 = b.x, b.y + b.h // 2 + shift // 2
    dx = max(40, (x2 - x1) // 2)
    d = f"M{x1},{y1} C{x1 + dx},{y1} {x2 - dx},{y2} {x2},{y2}"
    middle = ((x1 + x2) // 2, (y1 + y2) // 2 + shift)
    return Arrow(e.transition, e.source, e.target, e.label, d, *middle, text_width(e.label), "forward")


def _side(e: Edge, a: Box, b: Box, shift: int) -> Arrow:
    x = a.x + a.w
    y1, y2 = a.y + a.h // 2 + shift // 2, b.y + b.h // 2 + shift // 2
    bulge = SIDE_BULGE + abs(a.row - b.row) * 8 + shift
    d = f"M{x},{y1} C{x + bulge},{y1} {x + bulge},{y2} {x},{y2}"
    middle = (x + bulge * 3 // 4, (y1 + y2) // 2)
    return Arrow(e.transition, e.source, e.target, e.label, d, *middle, text_width(e.label), "side")


def _lane(e: Edge, a: Box, b: Box, lane: int, kind: str, index: int) -> Arrow:
    """An arrow that leaves the source's right side into the gap after its column, runs along ``lane``
    (above or below every box) and comes down (or up) the gap before the target's column into its left
    side - or, going back, up into its bottom - so that it crosses no box on the way. The ``index``-th
    lane runs up and down its own line in the gaps, nested: the lowest lane nearest to the boxes."""
    y1 = a.y + a.h // 2 + 6
    out = a.x + a.w + 16 + (index % 8) * 10
    if kind == "over":
        into = b.x - 16 - (index % 8) * 10
        points = [
            (a.x + a.w, y1),
            (out, y1),
            (out, lane),
            (into, lane),
            (into, b.y + b.h // 2 - 6),
            (b.x, b.y + b.h // 2 - 6),
        ]
    else:
        into = b.x + b.w // 2 - 16
        points = [(a.x + a.w, y1), (out, y1), (out, lane), (into, lane), (into, b.y + b.h)]
    middle = ((out + into) // 2, lane)
    return Arrow(
        e.transition, e.source, e.target, e.label, rounded(points), *middle, text_width(e.label), kind
    )


def rounded(points: Sequence[tuple[int, int]], radius: int = 8) -> str:
    """An SVG path through ``points`` (straight segments) with its corners rounded."""
    d = f"M{points[0][0]},{points[0][1]}"
    for prev, corner, nxt in zip(points, points[1:], points[2:], strict=False):
        r_in = min(radius, _distance(prev, corner) // 2)
        r_out = min(radius, _distance(corner, nxt) // 2)
        before = _towards(corner, prev, r_in)
        after = _towards(corner, nxt, r_out)
        d += f" L{before[0]},{before[1]} Q{corner[0]},{corner[1]} {after[0]},{after[1]}"
    return d + f" L{points[-1][0]},{points[-1][1]}"


def _distance(p: tuple[int, int], q: tuple[int, int]) -> int:
    return abs(p[0] - q[0]) + abs(p[1] - q[1])


def _towards(p: tuple[int, int], q: tuple[int, int], step: int) -> tuple[int, int]:
    """The point ``step`` px from ``p`` towards ``q`` (segments are horizontal or vertical)."""
    dx = (q[0] > p[0]) - (q[0] < p[0])
    dy = (q[1] > p[1]) - (q[1] < p[1])
    return p[0] + dx * step, p[1] + dy * step
