"""The employment service."""
