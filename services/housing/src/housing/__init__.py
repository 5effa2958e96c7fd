"""The housing service."""
