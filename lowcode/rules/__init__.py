"""The rule engine's seam in the write path (triggers and actions arrive with the rules capability)."""
