"""Dashboards: several reports on one page with one shared parameter form (docs/REPORTS.md, Dashboards)."""
