"""nodes layer (see docs/architecture.md)."""
