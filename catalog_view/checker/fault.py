"""A planned fault of the checker: below the runner that injects faults and
the modules that build them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """One planned action: its name and what it does; returns a detail."""

    name: str
    run: Callable[[], str]
