"""Generic demo data: a template declares its demo scenario as data (``demo_scenario.json``) and
:func:`run_scenario` plays it through the record service as the template's role users.

Modules: ``scenario`` (load and validate against ``scenario.schema.json``), ``functions`` (the seeded random
and calendar functions added to the expression language), ``values`` (value specs: literals, ``=expression``,
``$each`` lists), ``writer`` (writes and reads as a named user, refusals counted), ``steps`` (the step
registry) and ``runner`` (the run: options, scopes, the calendar agenda, the summary).
"""

from lowcode.demo.runner import run_scenario, scenario_path

__all__ = ["run_scenario", "scenario_path"]
