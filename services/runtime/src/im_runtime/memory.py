"""The public name of the in-memory store, for plugins' handler tests: it lives in
`im_runtime.storage.memory`."""

from im_runtime.storage.memory import MemoryStore, MemoryUnitOfWork, mentioned

__all__ = ["MemoryStore", "MemoryUnitOfWork", "mentioned"]
