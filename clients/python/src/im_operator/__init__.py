"""The operator's client: publish checked events, read feedback (see README.md)."""

from im_operator.feedback import fetch
from im_operator.publish import MAX_BYTES, Prepared, PublishError, prepare, send

__all__ = ["MAX_BYTES", "Prepared", "PublishError", "fetch", "prepare", "send"]
