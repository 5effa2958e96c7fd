"""The erasure ledger: who asked to erase whom (by one-way key), which services
confirmed, and what was purged from the bus."""
