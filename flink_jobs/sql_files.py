"""Load the job's SQL from sql/: one file per thing, `${name}` placeholders
filled from the job options (string.Template: a missing name is an error)."""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

_COMMENT = re.compile(r"^\s*--.*$", re.MULTILINE)


def render_sql(path: Path, variables: dict[str, str]) -> str:
    try:
        return Template(path.read_text()).substitute(variables)
    except KeyError as exc:
        raise ValueError(f"{path}: no value for placeholder ${{{exc.args[0]}}}") from exc


def statements(path: Path, variables: dict[str, str]) -> list[str]:
    """The statements of a file, split on ';' at line ends, comments dropped."""
    text = _COMMENT.sub("", render_sql(path, variables))
    return [s.strip() for s in re.split(r";\s*$", text, flags=re.MULTILINE) if s.strip()]


def view_files(sql_dir: Path, views: tuple[str, ...]) -> list[Path]:
    """Shared parts first (in name order), then one file per view."""
    parts = sorted((sql_dir / "views" / "parts").glob("*.sql"))
    return [*parts, *(sql_dir / "views" / f"{view}.sql" for view in views)]
