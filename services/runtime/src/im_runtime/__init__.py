"""Run-time kit shared by every service."""

from im_runtime import logs
from im_runtime.errors import Conflict, DomainError, Forbidden, NotFound, Reject
from im_runtime.spec import Answers, Handles, On, ServiceSpec, views
from im_runtime.storage.unit_of_work import UnitOfWork

__all__ = ["Answers", "Conflict", "DomainError", "Forbidden", "Handles", "NotFound", "On",
           "Reject", "ServiceSpec", "UnitOfWork", "logs", "views"]
