"""scheduler layer (see docs/architecture.md)."""
