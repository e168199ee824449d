"""Workflows: the states a record moves through, the named transitions between them, and what each state
locks - compiled per snapshot (:mod:`.model`) and checked at publish (:mod:`.validate`). The record service
enforces them through :mod:`lowcode.runtime.workflow`."""
