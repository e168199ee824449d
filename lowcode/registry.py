"""A small generic registry: named plugins (field types, operators, functions, actions) in one place."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from lowcode.errors import DuplicateType, UnknownType

T = TypeVar("T")


class Registry(Generic[T]):
    """Holds plugins by their stable snake_case name; raises typed errors for unknown or duplicate names."""

    def __init__(self, name: str):
        self.name = name
        self._items: dict[str, T] = {}

    def register(self, key: str, item: T) -> T:
        """Add ``item`` under ``key``. :raises DuplicateType: if the key is taken."""
        if key in self._items:
            raise DuplicateType(f"{self.name}: '{key}' is already registered")
        self._items[key] = item
        return item

    def get(self, key: str) -> T:
        """Return the item under ``key``. :raises UnknownType: if there is none."""
        try:
            return self._items[key]
        except KeyError:
            known = ", ".join(sorted(self._items))
            raise UnknownType(f"{self.name}: unknown type '{key}' (known: {known})") from None

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def keys(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def all(self) -> list[T]:
        """Registered items in name order."""
        return [self._items[k] for k in sorted(self._items)]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())
