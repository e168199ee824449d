"""Template versions: dotted numbers by number, anything else as text; not-newer upgrades refused unless
forced; the export's default version."""

from __future__ import annotations

import pytest

from lowcode.definitions.bundle_versions import compare_versions, default_export_version, require_newer
from lowcode.errors import NotNewer


@pytest.mark.parametrize(
    ("a", "b", "order"),
    [
        ("1.10", "1.9", 1),
        ("1.2", "1.2.0", 0),
        ("v2.0", "2", 0),
        ("2.0.1", "2.0.0.9", 1),
        ("1.0.12", "1.0.9", 1),
        ("beta", "alpha", 1),
        ("next", "1.0", 1),  # a text version against a numeric one: as text
        ("1.0", "1.0", 0),
        ("0.9", "1.0", -1),
    ],
)
def test_versions_are_ordered(a, b, order):
    assert compare_versions(a, b) == order
    assert compare_versions(b, a) == -order


def test_not_newer_is_refused_unless_forced():
    require_newer("1.0", "1.1")
    require_newer("", "anything")  # an install without a version accepts any bundle
    for offered in ("1.0", "1.0.0", "0.9", ""):
        with pytest.raises(NotNewer) as refused:
            require_newer("1.0", offered)
        assert refused.value.extra == {"installed": "1.0", "offered": offered}
        require_newer("1.0", offered, force=True)
    with pytest.raises(NotNewer, match="older than the installed 1.0"):
        require_newer("1.0", "0.9")


def test_the_export_version_grows_with_local_publishes():
    versions = {"app/shop": 1, "entity/product": 3}
    assert default_export_version(None, False, versions) == "1.0.4"
    assert default_export_version("2.1", True, versions) == "2.1"
    changed = default_export_version("2.1", False, versions)
    assert changed == "2.1.4" and compare_versions(changed, "2.1") == 1
    assert default_export_version("", True, versions) == "1.0.4"
