"""The public name of the MongoDB adapter, for plugins and tools: it lives in
`im_runtime.storage.mongo`."""

from im_runtime.storage.mongo import ERASED, OUTBOX, PROCESSED, MongoStore, StandaloneMongo

__all__ = ["ERASED", "OUTBOX", "PROCESSED", "MongoStore", "StandaloneMongo"]
