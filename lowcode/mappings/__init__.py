"""Mappings: a source (external JSON payload, spreadsheet row, record of another entity) turned into the
values and child rows of a target entity's record, and back (docs/MAPPINGS.md).

Modules: :mod:`paths` (the path syntax), :mod:`casts` (value maps, date formats, the field types' parsers),
:mod:`compiled` (a published mapping compiled once per snapshot), :mod:`lookups` (unique keys -> ids, one
query per lookup per batch), :mod:`engine` (``map_payload`` / ``map_record`` / ``map_rows``), :mod:`reverse`
(record -> outbound payload), :mod:`service` (writes through the record service, previews).
"""
