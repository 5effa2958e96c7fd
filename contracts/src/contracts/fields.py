"""Field types the contracts share, each defined once (a module's own types stay in it)."""

from __future__ import annotations

from typing import Annotated

import msgspec

# An id chosen by a caller or a service: letters, digits, `_` and `-`, at most 64.
Id = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
# A short name or label.
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
# Why a step was taken (a refusal, an ending): a few words at least.
Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=500)]
# An ISO 639 language code.
Language = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$")]
# Paging of lists.
Limit = Annotated[int, msgspec.Meta(ge=1, le=500)]
Offset = Annotated[int, msgspec.Meta(ge=0)]
