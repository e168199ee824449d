"""Background jobs: ``lc_job`` rows (:mod:`lowcode.jobs.store`), job kinds in a registry
(:mod:`lowcode.jobs.kinds`) and the runner that executes them in ``lowcode worker`` or a thread of
``lowcode serve`` (:mod:`lowcode.jobs.runner`)."""
