"""Core plumbing: database engine and sessions, system tables, column types."""
