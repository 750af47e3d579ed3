"""Small PostgreSQL helpers shared by the stack, the seed and the checker."""

from __future__ import annotations

from pathlib import Path

import psycopg

from catalog_view.errors import StackError


def apply_sql_file(conn: psycopg.Connection, path: Path) -> None:
    """Run one SQL file as a whole; a failure names the file."""
    try:
        conn.execute(path.read_text().encode())
    except psycopg.Error as exc:
        raise StackError(f"{path.name}: {str(exc).strip()}") from exc
