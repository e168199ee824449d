"""Reports: definitions (kind ``report``) compiled per snapshot and run as one GROUP BY in SQL with the reader's
permissions (docs/REPORTS.md). Public API: :func:`~lowcode.reports.model.compile_report`,
:class:`~lowcode.reports.service.ReportService` (``run``, ``drill_condition``), :class:`~lowcode.reports.result.ReportResult`.
"""
