"""One row of `catalog-view stack status`: a component, its state, version and
detail. Its own module, below every component that reports one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    state: str
    version: str
    detail: str = ""
