"""How the tools report progress and diagnostics: Python logging on stderr in
one format. Results (reports, tables, JSON) are printed on stdout instead,
for people and scripts to read."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
DATE_FORMAT = "%H:%M:%S"


def configure(*, verbose: bool = False) -> None:
    """Progress at INFO; with `verbose`, DEBUG too (also of the libraries)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format=FORMAT,
        datefmt=DATE_FORMAT,
        stream=sys.stderr,
        force=True,
    )
    if not verbose:
        # Their INFO lines are noise next to ours (connections, retries).
        for chatty in ("kafka", "urllib3", "matplotlib"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
