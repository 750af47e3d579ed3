"""The documentation's examples against the running stack: the SQL readers of
docs/readers.md (sql/readers/*.sql) return rows on a seeded store and can use
the index each names (sql/store/003_reader_indexes.sql), and the shell
examples marked runnable (fenced as ```sh test) in README.md and docs/*.md
exit 0."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from catalog_view.catalog.seeded import seed_catalog
from catalog_view.reference import converged
from catalog_view.settings import REPO_ROOT, Settings
from catalog_view.waiting import wait_until

pytestmark = pytest.mark.e2e

READERS = REPO_ROOT / "sql" / "readers"
DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]


@pytest.fixture(scope="module")
def seeded(settings: Settings) -> Settings:
    seed_catalog(settings, products=300, seed=7, append=True, progress=False)
    wait_until(lambda: converged(settings), timeout_s=600, what="seeded store", interval_s=1.0)
    return settings


@pytest.fixture
def reader(seeded: Settings) -> Iterator[psycopg.Connection]:
    """The readers' role, as a storefront connects."""
    with psycopg.connect(seeded.store_reader_conninfo(), autocommit=True) as conn:
        conn.execute(f"SET search_path TO {seeded.store_schema}")
        yield conn


def _indexes(plan: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(plan, dict):
        if "Index Name" in plan:
            found.add(plan["Index Name"])
        for value in plan.values():
            found |= _indexes(value)
    elif isinstance(plan, list):
        for item in plan:
            found |= _indexes(item)
    return found


def _run(conn: psycopg.Connection, reader: str, args: list[Any]) -> tuple[list[Any], set[str]]:
    """Rows of the reader for these arguments, and the indexes its plan uses
    when the planner may read a table only through an index condition (no
    sequential or full index scan, no nested loop that would probe a primary
    key): on a seeded store this small the planner may rightly prefer a scan,
    so the test asks whether the named index fits the query's predicate."""
    conn.execute("DEALLOCATE ALL")
    conn.execute(f"PREPARE {reader} AS {(READERS / f'{reader}.sql').read_text()}")
    # EXECUTE is a utility statement: its arguments are literals, not parameters.
    execute = sql.SQL("EXECUTE {}({})").format(
        sql.Identifier(reader), sql.SQL(", ").join(sql.Literal(a) for a in args)
    )
    rows = conn.execute(execute).fetchall()
    planner = ("enable_seqscan", "enable_indexscan", "enable_nestloop")
    for setting in planner:
        conn.execute(f"SET {setting} = off")
    try:
        explained = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + execute).fetchone()
    finally:
        for setting in planner:
            conn.execute(f"RESET {setting}")
    assert explained is not None
    body = explained[0] if not isinstance(explained[0], str) else json.loads(explained[0])
    return rows, _indexes(body)


def test_every_reader_is_tested() -> None:
    assert {p.stem for p in READERS.glob("*.sql")} == {
        "product_page",
        "category_listing",
        "category_price_range",
        "attribute_filter",
    }


def test_product_page_by_slug_uses_product_slug(reader: psycopg.Connection) -> None:
    row = reader.execute(
        "SELECT p.slug, pc.channel_slug FROM product p JOIN product_channel pc USING (product_id)"
        " WHERE pc.is_published ORDER BY p.product_id LIMIT 1"
    ).fetchone()
    assert row is not None
    rows, indexes = _run(reader, "product_page", [row[0], row[1]])
    assert len(rows) == 1 and rows[0][2] == row[0]
    assert "product_slug" in indexes, indexes


def test_category_listing_and_price_range_use_the_breadcrumb_index(
    reader: psycopg.Connection,
) -> None:
    # The category with the fewest listed products in its subtree (any level
    # of a breadcrumb), counted independently of the reader's @>.
    row = reader.execute(
        "SELECT (e ->> 'id')::bigint, pc.channel_slug, count(DISTINCT p.product_id)"
        " FROM product p JOIN product_channel pc USING (product_id),"
        " jsonb_array_elements(p.category_path) AS e"
        " WHERE pc.is_published AND pc.visible_in_listings"
        " GROUP BY 1, 2 ORDER BY 3, 1 LIMIT 1"
    ).fetchone()
    assert row is not None
    category, channel, listed = row
    rows, indexes = _run(reader, "category_listing", [category, channel, 1000])
    assert len(rows) == listed
    assert "product_category_path" in indexes, indexes
    ranges, indexes = _run(reader, "category_price_range", [category, channel])
    low, high, count = ranges[0]
    assert count == listed
    assert low == min((r[5] for r in rows if r[5] is not None), default=None)
    assert high == max((r[6] for r in rows if r[6] is not None), default=None)
    assert "product_category_path" in indexes, indexes


def test_attribute_filter_uses_the_attributes_index(reader: psycopg.Connection) -> None:
    row = reader.execute(
        "SELECT array_agg(k ORDER BY k), pc.channel_slug FROM product p"
        " JOIN product_channel pc USING (product_id), jsonb_object_keys(p.attributes) AS k"
        " WHERE pc.is_published GROUP BY p.product_id, pc.channel_slug"
        " HAVING count(*) >= 2 ORDER BY p.product_id LIMIT 1"
    ).fetchone()
    assert row is not None
    values, channel = row[0][:2], row[1]
    rows, indexes = _run(reader, "attribute_filter", ["{" + ",".join(values) + "}", channel, 100])
    assert rows, f"no product with attribute values {values} in {channel}"
    for product_id, *_ in rows:
        got = reader.execute(
            "SELECT attributes ?& %s FROM product WHERE product_id = %s", (values, product_id)
        ).fetchone()
        assert got == (True,)
    assert "product_attributes" in indexes, indexes


def _runnable_commands() -> list[tuple[str, str]]:
    """Lines of ```sh test blocks: (where, command)."""
    found: list[tuple[str, str]] = []
    block = re.compile(r"```sh test\n(.*?)```", re.S)
    for doc in DOCS:
        for match in block.finditer(doc.read_text()):
            for line in match.group(1).splitlines():
                command = line.split("#", 1)[0].strip()
                if command:
                    found.append((doc.name, command))
    return found


def test_docs_have_runnable_examples() -> None:
    assert len(_runnable_commands()) >= 3


@pytest.mark.parametrize(("doc", "command"), _runnable_commands())
def test_docs_command_runs(seeded: Settings, doc: str, command: str) -> None:
    argv = shlex.split(command)
    assert argv[0] == "catalog-view", f"{doc}: only catalog-view commands run here: {command}"
    env = dict(os.environ)
    env["CATALOG_VIEW_DATA_DIR"] = str(seeded.data_dir)
    for field in ("pg_port", "kafka_port", "kafka_controller_port", "connect_port"):
        env[f"CATALOG_VIEW_{field.upper()}"] = str(getattr(seeded, field))
    env["CATALOG_VIEW_METRICS_PORT"] = seeded.metrics_port
    done = subprocess.run(
        [sys.executable, "-m", "catalog_view", *argv[1:]],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    print(done.stdout)
    assert done.returncode == 0, f"{doc}: {command}\n{done.stdout}\n{done.stderr}"
