"""The public name of the unit of work handlers write through: it lives in
`im_runtime.storage.unit_of_work`."""

from im_runtime.storage.unit_of_work import Carried, Doc, OutboxEntry, UnitOfWork, clone

__all__ = ["Carried", "Doc", "OutboxEntry", "UnitOfWork", "clone"]
