"""apiserver layer (see docs/architecture.md)."""
