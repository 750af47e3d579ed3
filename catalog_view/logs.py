"""How the tools report progress and diagnostics: Python logging on stderr in
one format. Results (reports, tables, JSON) are printed on stdout instead,
for people and scripts to read."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
DATE_FORMAT = "%H:%M:%S"
# The project's own loggers; the libraries' DEBUG lines (HTTP requests, font
# lookups) would bury ours, so they stay at INFO even with -v.
OURS = ("catalog_view", "connectors")


def configure(*, verbose: bool = False) -> None:
    """Progress at INFO; with `verbose`, the project's DEBUG lines too."""
    logging.basicConfig(
        level=logging.INFO, format=FORMAT, datefmt=DATE_FORMAT, stream=sys.stderr, force=True
    )
    for name in OURS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.INFO)
