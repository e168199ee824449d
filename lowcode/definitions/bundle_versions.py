"""Template versions: their order, the refusal of an upgrade that is not newer, and the version an export
writes into its manifest.

Order: two versions of dotted numbers (``1.10.0``, an optional leading ``v``) compare number by number, missing
places counting as 0 (``1.2`` = ``1.2.0`` < ``1.10``); any other version compares as text with the other
(``beta`` < ``gamma``). A bundle without a version is never newer than an installed one that has a version; an
install without a version accepts any bundle.

An export's default version: an app installed from a template whose published definitions are still the
installed bundle's exports that bundle's version; one changed since exports ``<installed version>.<sum of the
published versions>`` (newer than what it was installed from, and newer with every publish); an app made in
the designer exports ``1.0.<sum of the published versions>``.
"""

from __future__ import annotations

import re
from typing import Any

from lowcode.core.texts import Text
from lowcode.errors import NotNewer

_NUMERIC = re.compile(r"^[vV]?(\d{1,18}(?:\.\d{1,18})*)$")


def version_key(version: str) -> tuple[int, tuple]:
    """A sort key of ``version``: ``(0, numbers)`` for dotted numbers (trailing zeros dropped), ``(1, (text,))``
    for any other. Compare through :func:`compare_versions`, which handles a numeric version meeting a text one."""
    match = _NUMERIC.match(version.strip())
    if match is None:
        return (1, (version.strip(),))
    numbers = [int(part) for part in match.group(1).split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return (0, tuple(numbers))


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` is older than, the same as or newer than ``b`` (see the module's order)."""
    ka, kb = version_key(a), version_key(b)
    if ka[0] != kb[0]:  # a numeric version and a text one: compared as text
        ka, kb = (1, (a.strip(),)), (1, (b.strip(),))
    return (ka > kb) - (ka < kb)


def require_newer(installed: str, offered: str, force: bool = False) -> None:
    """Refuse an upgrade from ``installed`` to ``offered`` that is not newer, unless ``force``.
    :raises NotNewer:"""
    if force or not installed.strip():
        return
    if not offered.strip():
        raise NotNewer(
            Text(
                "This bundle has no version, so it is not newer than the installed {installed}",
                installed=installed,
            ),
            installed=installed,
            offered=offered,
        )
    order = compare_versions(offered, installed)
    if order == 0:
        raise NotNewer(
            Text("Version {offered} is the version already installed", offered=offered),
            installed=installed,
            offered=offered,
        )
    if order < 0:
        raise NotNewer(
            Text(
                "Version {offered} is older than the installed {installed}",
                offered=offered,
                installed=installed,
            ),
            installed=installed,
            offered=offered,
        )


def default_export_version(
    installed_version: str | None, unchanged_since_install: bool, published: dict[str, Any]
) -> str:
    """The version an export writes when none is given (see the module's rule). ``published``: the published
    version of each definition (``{"entity/product": 3}``)."""
    total = sum(v for v in published.values() if isinstance(v, int))
    if installed_version is None:
        return f"1.0.{total}"
    if unchanged_since_install and installed_version:
        return installed_version
    return f"{installed_version or '1.0'}.{total}"
