"""`im up`: the embedded stack (placeholder until the supervisor lands)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    up = sub.add_parser("up", help="start the embedded stack")
    up.set_defaults(func=lambda args: 1)
