"""Adapters for schedulers that run ingestguard (optional extras)."""
