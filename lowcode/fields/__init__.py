"""The field-type registry. Built-ins are registered explicitly by :func:`register_builtin_field_types`."""

from __future__ import annotations

from lowcode.fields.base import FieldDef, FieldType
from lowcode.registry import Registry

field_types: Registry[FieldType] = Registry("field type")


def register_builtin_field_types(registry: Registry[FieldType] = field_types) -> Registry[FieldType]:
    """Register every built-in field type once (idempotent per registry)."""
    from lowcode.fields.autonumber import AutonumberFieldType
    from lowcode.fields.choice import BooleanFieldType, MultiSelectFieldType, SelectFieldType
    from lowcode.fields.computed import FormulaFieldType, RollupFieldType
    from lowcode.fields.number import DecimalFieldType, IntegerFieldType, MoneyFieldType, PercentFieldType
    from lowcode.fields.reference import (
        AttachmentFieldType,
        ChildTableFieldType,
        LinkFieldType,
        UserFieldType,
    )
    from lowcode.fields.temporal import DateFieldType, DateTimeFieldType
    from lowcode.fields.text import EmailFieldType, LongTextFieldType, PhoneFieldType, TextFieldType

    builtins = [
        TextFieldType,
        LongTextFieldType,
        EmailFieldType,
        PhoneFieldType,
        IntegerFieldType,
        DecimalFieldType,
        MoneyFieldType,
        PercentFieldType,
        BooleanFieldType,
        SelectFieldType,
        MultiSelectFieldType,
        DateFieldType,
        DateTimeFieldType,
        LinkFieldType,
        UserFieldType,
        AttachmentFieldType,
        ChildTableFieldType,
        FormulaFieldType,
        RollupFieldType,
        AutonumberFieldType,
    ]
    for cls in builtins:
        if cls.type not in registry:
            registry.register(cls.type, cls())
    return registry


__all__ = ["FieldDef", "FieldType", "field_types", "register_builtin_field_types"]
