"""App names a route keeps for itself are read from the URL rules and refused."""

from __future__ import annotations

import pytest

from lowcode.definitions.app_names import fixed_segments_beside, require_free_app_name
from lowcode.errors import DefinitionInvalid

RULES = [
    "/design",
    "/design/import",
    "/design/<app>",
    "/design/<app>/settings",
    "/design/<app>/entity/<name>",
    "/a/<app>/<entity>/new",
    "/a/<app>/<entity>/<int:record_id>",
    "/api/templates/import",
    "/api/templates/upgrade/<app>",
    "/static/<path:filename>",
]


def test_fixed_segments_beside_an_app_segment():
    assert fixed_segments_beside(RULES) == {"import"}
    assert fixed_segments_beside([*RULES, "/api/templates/upgrade/all"]) == {"import", "all"}
    assert fixed_segments_beside(RULES, "record_id") == {"new"}
    assert fixed_segments_beside(["/x/<string(length=2):app>", "/x/help"]) == {"help"}


def test_a_reserved_name_is_refused_with_its_path():
    require_free_app_name("shop", {"import"})
    with pytest.raises(DefinitionInvalid) as refused:
        require_free_app_name("import", {"import"}, "app.json: $.name")
    assert "cannot be an app's name" in refused.value.message
    assert list(refused.value.fields) == ["app.json: $.name"]
