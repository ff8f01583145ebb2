"""API plumbing shared by every app: key authentication, permissions, parsing, errors."""
