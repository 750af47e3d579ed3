"""Load the job's SQL from sql/: one file per thing, `${name}` placeholders
filled from the job options (string.Template: a missing name is an error)."""

from __future__ import annotations

from pathlib import Path
from string import Template

import sqlparse


def render_sql(path: Path, variables: dict[str, str]) -> str:
    try:
        return Template(path.read_text()).substitute(variables)
    except KeyError as exc:
        raise ValueError(f"{path}: no value for placeholder ${{{exc.args[0]}}}") from exc


def statements(path: Path, variables: dict[str, str]) -> list[str]:
    """The statements of a file (split by sqlparse, which knows quotes and
    comments), comments dropped."""
    split = sqlparse.split(render_sql(path, variables), strip_semicolon=True)
    found = (sqlparse.format(s, strip_comments=True).strip() for s in split)
    return [s for s in found if s]


def view_files(sql_dir: Path, views: tuple[str, ...]) -> list[Path]:
    """Shared parts first (in name order), then one file per view."""
    parts = sorted((sql_dir / "views" / "parts").glob("*.sql"))
    return [*parts, *(sql_dir / "views" / f"{view}.sql" for view in views)]
