"""The part of MongoDB's query language the runtime evaluates itself — over unsaved
documents laid on a `find`, in the in-memory store of unit tests and in the read model:
top-level fields with equality (a scalar also matches an array holding it), `$in`,
`$ne`, `$lt`, `$lte`, `$gt`, `$gte`; sorts in BSON's order of types, then skip and limit.

Every filter is checked when it is used, whether or not anything is laid over it: an
operator outside this set is an error at once, not only on the day a unit of work
happens to hold an unsaved document of that collection."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

Doc = dict[str, Any]

_COMPARE = {"$lt": lambda a, b: a < b, "$lte": lambda a, b: a <= b,
            "$gt": lambda a, b: a > b, "$gte": lambda a, b: a >= b}
OPERATORS = frozenset({"$in", "$ne", *_COMPARE})


class UnsupportedFilter(ValueError):
    """A filter the runtime cannot evaluate the way MongoDB would."""


def check(flt: Mapping[str, Any]) -> None:
    for field, want in flt.items():
        if field.startswith("$"):
            raise UnsupportedFilter(f"top-level operator {field!r} is not supported")
        if "." in field:
            raise UnsupportedFilter(f"dotted field {field!r} is not supported")
        if isinstance(want, Mapping):
            for op, arg in want.items():
                if op not in OPERATORS:
                    raise UnsupportedFilter(f"operator {op!r} is not supported (on {field!r})")
                if op == "$in" and not isinstance(arg, list | tuple | set | frozenset):
                    raise UnsupportedFilter(f"$in on {field!r} needs a list")


def _match_one(have: Any, want: Any) -> bool:
    if isinstance(want, Mapping):
        for op, arg in want.items():
            if op == "$in":
                ok = have in arg or (isinstance(have, list) and any(h in arg for h in have))
            elif op == "$ne":
                ok = have != arg
            elif op in _COMPARE:
                ok = have is not None and type(have) is type(arg) and _COMPARE[op](have, arg)
            else:
                raise UnsupportedFilter(f"operator {op!r} is not supported")
            if not ok:
                return False
        return True
    # As in MongoDB, a scalar matches an array that contains it.
    return have == want or (isinstance(have, list) and not isinstance(want, list)
                            and want in have)


def matches(doc: Mapping[str, Any], flt: Mapping[str, Any]) -> bool:
    return all(_match_one(doc.get(field), want) for field, want in flt.items())


# BSON's order of types, so that a sort over mixed or missing values does what MongoDB does.
_RANK = {type(None): 0, int: 1, float: 1, str: 2, dict: 3, list: 4, bytes: 5, bool: 8,
         dt.datetime: 9, dt.date: 9}


def sort_key(value: Any) -> tuple[int, Any]:
    rank = _RANK.get(type(value), 10)
    if rank in (0, 3, 4, 10):  # not ordered among themselves here: keep the order found
        return rank, 0
    return rank, value


def ordered(docs: Iterable[Doc], sort: list[tuple[str, int]] | None, skip: int = 0,
            limit: int = 0) -> list[Doc]:
    """`docs` sorted as MongoDB sorts (by `_id` where no sort is given, so answers repeat),
    then `skip` and `limit` (0: no limit)."""
    out = sorted(docs, key=lambda d: sort_key(d.get("_id")))
    for field, direction in reversed(sort or []):
        out.sort(key=lambda d: sort_key(d.get(field)), reverse=direction < 0)
    out = out[skip:]
    return out[:limit] if limit else out
