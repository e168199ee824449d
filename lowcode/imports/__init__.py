"""Spreadsheet import: CSV/XLSX files read within limits (:mod:`.sheets`), a mapping picked or inferred from
the headers (:mod:`.infer`), a preview with per-cell errors and the background job that applies the rows
once each (:mod:`.service`, :mod:`.job`)."""
