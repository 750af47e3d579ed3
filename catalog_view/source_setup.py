"""Prepare the source database for capture: an explicit step, run on purpose.

`catalog-view source check` inspects what Debezium and the job need from the
admin portal's PostgreSQL (wal_level, slots, the capture role, REPLICA
IDENTITY FULL, privileges, the publication, the slot's health) and changes
nothing. `catalog-view source prepare` inspects first and runs only the
statements that fix what differs. Statements such as ALTER TABLE take locks
that wait behind the portal's open transactions and block its writes behind
them, so nothing that starts or restarts a component runs them: `stack up`
only checks a source it did not just create.

Works against an external PostgreSQL the user already runs: point the
settings (CATALOG_VIEW_PG_HOST, _PG_PORT, _ADMIN_DB, _ADMIN_USER, ...) at it.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from catalog_view.errors import CatalogViewError
from catalog_view.settings import CAPTURED_TABLES, HEARTBEAT_TABLE, Settings


class SourceError(CatalogViewError):
    """The source database cannot be captured as it is."""


@dataclass(frozen=True)
class Finding:
    """Something that differs from what the capture needs."""

    problem: str
    # The statement that fixes it, run by `source prepare`; None when it needs
    # the user (a server setting, a missing table).
    fix: sql.Composed | None = None

    def describe(self, conn: psycopg.Connection) -> str:
        if self.fix is None:
            return self.problem
        return f"{self.problem} (fix: {self.fix.as_string(conn)})"


def _scalar(conn: psycopg.Connection, query: str, params: tuple[object, ...] = ()) -> object:
    row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]


def _server_findings(conn: psycopg.Connection, s: Settings) -> list[Finding]:
    found = []
    wal_level = _scalar(conn, "SHOW wal_level")
    if wal_level != "logical":
        found.append(
            Finding(
                f"wal_level is {wal_level}; logical decoding needs wal_level = logical "
                "(postgresql.conf, then a server restart)"
            )
        )
    slots = _scalar(conn, "SHOW max_replication_slots")
    if str(slots) == "0":
        found.append(Finding("max_replication_slots is 0; the capture needs one slot"))
    role = conn.execute(
        "SELECT rolreplication OR rolsuper, rolcanlogin FROM pg_roles WHERE rolname = %s",
        (s.cdc_user,),
    ).fetchone()
    if role is None:
        found.append(Finding(f"capture role {s.cdc_user} does not exist"))
    elif not role[0]:
        found.append(
            Finding(
                f"role {s.cdc_user} lacks REPLICATION",
                sql.SQL("ALTER ROLE {} REPLICATION").format(sql.Identifier(s.cdc_user)),
            )
        )
    slot = conn.execute(
        "SELECT wal_status, plugin FROM pg_replication_slots WHERE slot_name = %s",
        (s.slot_name,),
    ).fetchone()
    if slot is not None and slot[0] == "lost":
        found.append(
            Finding(
                f"replication slot {s.slot_name} has lost WAL it still needed: changes are "
                "gone; run `catalog-view resnapshot`"
            )
        )
    elif slot is not None and slot[1] != "pgoutput":
        found.append(Finding(f"replication slot {s.slot_name} uses {slot[1]}, not pgoutput"))
    return found


def _table_findings(conn: psycopg.Connection, s: Settings) -> list[Finding]:
    found: list[Finding] = []
    cdc = sql.Identifier(s.cdc_user)
    schema_usage = _scalar(
        conn, "SELECT has_schema_privilege(%s, %s, 'USAGE')", (s.cdc_user, s.admin_schema)
    )
    if not schema_usage:
        found.append(
            Finding(
                f"role {s.cdc_user} may not use schema {s.admin_schema}",
                sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                    sql.Identifier(s.admin_schema), cdc
                ),
            )
        )
    for table in CAPTURED_TABLES:
        qualified = f"{s.admin_schema}.{table}"
        ident = sql.Identifier(s.admin_schema, table)
        identity = _scalar(
            conn, "SELECT relreplident FROM pg_class WHERE oid = to_regclass(%s)", (qualified,)
        )
        if identity is None:
            found.append(Finding(f"table {qualified} does not exist"))
            continue
        if identity != "f":
            found.append(
                Finding(
                    f"table {qualified} has REPLICA IDENTITY {identity!r}, not FULL: deletes "
                    "and unchanged TOASTed columns would arrive without their values",
                    sql.SQL("ALTER TABLE {} REPLICA IDENTITY FULL").format(ident),
                )
            )
        privileges = ["SELECT"] + (["INSERT", "UPDATE"] if table == HEARTBEAT_TABLE else [])
        for privilege in privileges:
            if not _scalar(
                conn, "SELECT has_table_privilege(%s, %s, %s)", (s.cdc_user, qualified, privilege)
            ):
                found.append(
                    Finding(
                        f"role {s.cdc_user} may not {privilege} {qualified}",
                        sql.SQL("GRANT {} ON {} TO {}").format(sql.SQL(privilege), ident, cdc),
                    )
                )
    return found


def _publication_findings(conn: psycopg.Connection, s: Settings) -> list[Finding]:
    pub = sql.Identifier(s.publication_name)
    if not _scalar(
        conn, "SELECT count(*) FROM pg_publication WHERE pubname = %s", (s.publication_name,)
    ):
        tables = sql.SQL(", ").join(sql.Identifier(s.admin_schema, t) for t in CAPTURED_TABLES)
        return [
            Finding(
                f"publication {s.publication_name} does not exist",
                sql.SQL("CREATE PUBLICATION {} FOR TABLE {}").format(pub, tables),
            )
        ]
    published = {
        r[0]
        for r in conn.execute(
            "SELECT tablename FROM pg_publication_tables WHERE pubname = %s AND schemaname = %s",
            (s.publication_name, s.admin_schema),
        )
    }
    return [
        Finding(
            f"publication {s.publication_name} lacks {s.admin_schema}.{t}",
            sql.SQL("ALTER PUBLICATION {} ADD TABLE {}").format(
                pub, sql.Identifier(s.admin_schema, t)
            ),
        )
        for t in CAPTURED_TABLES
        if t not in published
    ]


def inspect_source(conn: psycopg.Connection, settings: Settings) -> list[Finding]:
    """Everything that differs from what the capture needs; changes nothing."""
    return [
        *_server_findings(conn, settings),
        *_table_findings(conn, settings),
        *_publication_findings(conn, settings),
    ]


def check_source(settings: Settings) -> list[str]:
    """The findings as sentences, for `source check` and `stack up`."""
    with psycopg.connect(settings.admin_conninfo(), autocommit=True) as conn:
        return [f.describe(conn) for f in inspect_source(conn, settings)]


def prepare_source(settings: Settings, conninfo: str | None = None) -> list[str]:
    """Run the fixes of what differs (as the tables' owner, or the given
    connection); returns the statements run. Findings without a fix raise."""
    with psycopg.connect(conninfo or settings.admin_conninfo(), autocommit=True) as conn:
        findings = inspect_source(conn, settings)
        manual = [f.problem for f in findings if f.fix is None]
        if manual:
            raise SourceError("the source needs attention first: " + "; ".join(manual))
        applied = []
        for finding in findings:
            assert finding.fix is not None
            statement = finding.fix.as_string(conn)
            try:
                conn.execute(finding.fix)
            except psycopg.Error as exc:
                raise SourceError(
                    f"{statement} failed: {str(exc).strip()} (run it as a role that may)"
                ) from exc
            applied.append(statement)
        return applied
