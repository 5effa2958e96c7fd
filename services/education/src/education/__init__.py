"""The education service."""
