"""Users, sign-in, API tokens and the permission service."""
