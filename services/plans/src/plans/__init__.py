"""Integration plans: goals per household and member, moved forward by events."""
