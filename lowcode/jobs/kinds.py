"""Job kinds: what a background job of each kind does, in a registry the runner looks kinds up in.

A kind is a small class with a stable ``name`` and ``run(handle)``; the handle (:class:`lowcode.jobs.runner.
JobHandle`) gives the job's parameters and input, unit-of-work chunks run as the job's owner, and the
checkpoints that record progress (and stop a cancelled job). ``run`` returns the result file's name or "".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from lowcode.registry import Registry

if TYPE_CHECKING:
    from lowcode.jobs.runner import JobHandle


class JobKind(ABC):
    """One kind of background job."""

    name: str = ""
    """Stable snake_case name kept in ``lc_job.kind``."""

    @abstractmethod
    def run(self, handle: JobHandle) -> str:
        """Do the job (resuming after ``handle.job.progress_done`` items); returns the result's file name.

        :raises JobStopped: (from a checkpoint) when the job was cancelled or taken by another runner."""


def builtin_job_kinds() -> Registry[JobKind]:
    """A registry holding the built-in job kinds (spreadsheet import, report export)."""
    from lowcode.imports.job import ImportJob
    from lowcode.reports.export_job import ReportExportJob

    kinds: Registry[JobKind] = Registry("job kind")
    kinds.register(ImportJob.name, ImportJob())
    kinds.register(ReportExportJob.name, ReportExportJob())
    return kinds
