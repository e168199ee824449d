"""The REST API under ``/api/``: thin views translating HTTP to service calls and back."""
