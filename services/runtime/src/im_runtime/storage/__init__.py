"""Storage, the bottom layer: what handlers write through and reads are answered from.

- `store.Store`: the protocol every store implements (MongoDB, in memory);
- `unit_of_work.UnitOfWork`: the identity map, savepoints and one atomic commit of
  documents, processed ids and outbox entries; `overlay` lays its unsaved writes over a
  `find` (honouring sort, skip and limit), `filters` checks every filter on every call;
- `mongo.MongoStore` with `mongo_unit.MongoUnitOfWork` and `transactions` (a replica set's
  transactions, nx-27017's serialised savepoints, a standalone mongod refused);
- `memory.MemoryStore`, the fake of handler unit tests;
- `mirror.Mirror` and `reader.Reader`: the in-memory read model reads are answered from.
"""

from im_runtime.storage.documents import Doc, clone
from im_runtime.storage.store import Change, Store
from im_runtime.storage.unit_of_work import UnitOfWork

__all__ = ["Change", "Doc", "Store", "UnitOfWork", "clone"]
