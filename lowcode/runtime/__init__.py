"""The runtime: compiled definitions, real tables, the record service and the read path."""
