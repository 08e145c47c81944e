"""machinery layer (see docs/architecture.md)."""
