"""The suite's shared URL builders (tests/route_builders.py) build what werkzeug's own would, rule by rule."""

from __future__ import annotations

from werkzeug.routing import Map, Rule

from tests.route_builders import share_route_builders

VALUES = {"app": "jxc", "entity": "sales order", "record_id": 7, "rest": "x/y z", "lang": "zh_CN", "n": 3}
EXTRA = {"q": "a b&c", "after": "7"}


def _map() -> Map:
    return Map(
        [
            Rule("/a/<app>/<entity>/<int:record_id>", endpoint="record"),
            Rule("/a/<app>/<entity>/", endpoint="list"),
            Rule("/p/<path:rest>", endpoint="path", defaults={"page": 1}),
            Rule("/d/", endpoint="filled", defaults={"n": 3}),
            Rule("/d/<int:n>", endpoint="filled"),
            Rule("/<lang>/home", endpoint="home", subdomain="www"),
            Rule("/static", endpoint="static"),
            Rule("/b/<int:page>", endpoint="baked", defaults={"page": 1}),
        ]
    )


def test_shared_builders_build_what_werkzeugs_own_build():
    share_route_builders()
    original = Rule._compile_builder.original  # type: ignore[attr-defined]
    for rules in (_map(), _map()):  # the second map's rules get the functions compiled for the first
        for rule in rules.iter_rules():
            args = {k: v for k, v in VALUES.items() if k in rule.arguments}
            for unknown in (False, True):
                mine = rule._compile_builder(unknown).__get__(rule, None)
                theirs = original(rule, unknown).__get__(rule, None)
                extra = EXTRA if unknown else {}
                assert mine(**args, **extra) == theirs(**args, **extra), rule.rule


def test_equal_rules_share_one_builder_and_baked_defaults_do_not():
    share_route_builders()
    first, second = _map(), _map()
    one = {r.rule: r for r in first.iter_rules()}
    two = {r.rule: r for r in second.iter_rules()}
    assert one["/a/<app>/<entity>/"]._build.__func__ is two["/a/<app>/<entity>/"]._build.__func__
    assert one["/b/<int:page>"]._build.__func__ is not two["/b/<int:page>"]._build.__func__
    assert one["/b/<int:page>"]._build() == ("", "/b/1")
