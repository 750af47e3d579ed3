"""The local PostgreSQL cluster (Debian's packages): one cluster holding the
admin database (the source) and the store database, wal_level=logical.

Runs as the `postgres` OS user when we are root (initdb refuses root). Roles:
the admin role owns the catalog; the capture role has REPLICATION and SELECT on
the catalog tables only; the writer role owns schema catalog_view; the reader
role can only read it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from catalog_view.database import apply_sql_file
from catalog_view.errors import StackError
from catalog_view.settings import REPO_ROOT, Settings
from catalog_view.source_setup import check_source, prepare_source
from catalog_view.stack.process import pid_alive
from catalog_view.waiting import WaitTimeout, wait_until

PG_MAJOR = 15
PG_BIN = Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin")
SOURCE_SCHEMA_DIR = REPO_ROOT / "sql" / "source_schema"
STORE_SCHEMA_DIR = REPO_ROOT / "sql" / "store"
# Store tables of the committing sink's staging (sql/store/002_unit_staging.sql).
WRITER_ONLY_TABLES = ("unit_staging",)


def _create_schema(conn: psycopg.Connection, schema: sql.Identifier, directory: Path) -> None:
    """The schema (if missing) and the SQL files of `directory` in it, in name order."""
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
    conn.execute(sql.SQL("SET search_path TO {}").format(schema))
    for path in sorted(directory.glob("*.sql")):
        apply_sql_file(conn, path)


@dataclass(frozen=True)
class PostgresCluster:
    settings: Settings

    @property
    def root(self) -> Path:
        return self.settings.data_dir / "postgres"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.settings.data_dir / "logs" / "postgres.log"

    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *argv]
        return argv

    def _run(self, argv: list[str], what: str) -> str:
        result = subprocess.run(
            self._as_owner(argv), capture_output=True, text=True, check=False, timeout=120
        )
        if result.returncode != 0:
            raise StackError(f"{what} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def _prepare_dirs(self) -> None:
        for path in (self.root, self.socket_dir, self.log_file.parent):
            path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            for path in (self.root, self.socket_dir):
                shutil.chown(path, owner.pw_uid, owner.pw_gid)
            self.log_file.touch()
            shutil.chown(self.log_file, owner.pw_uid, owner.pw_gid)
            # The data dir may sit below a directory only root can enter.
            for parent in self.root.parents:
                if parent == Path("/"):
                    break
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)

    def initialized(self) -> bool:
        return (self.data / "PG_VERSION").is_file()

    def init(self) -> None:
        if not (PG_BIN / "initdb").exists():
            raise StackError(
                f"PostgreSQL {PG_MAJOR} is not installed ({PG_BIN}/initdb missing): "
                f"apt-get install postgresql-{PG_MAJOR}"
            )
        self._prepare_dirs()
        if self.initialized():
            return
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.settings.secret("pg_superuser_password") + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres", "postgres")
        pwfile.chmod(0o600)
        try:
            self._run(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--pwfile",
                    str(pwfile),
                    "--auth-host=scram-sha-256",
                    "--auth-local=peer",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                "initdb",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude_if_exists = 'catalog_view.conf'\n")

    def _write_conf(self) -> None:
        conf = self.data / "catalog_view.conf"
        conf.write_text(
            "# Written by catalog-view stack up on every start.\n"
            f"port = {self.settings.pg_port}\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.socket_dir}'\n"
            "wal_level = logical          # Debezium decodes the WAL\n"
            "max_wal_senders = 10\n"
            "max_replication_slots = 10\n"
            "max_connections = 200        # Flink subtasks, checker samplers, tests\n"
            "shared_buffers = 256MB\n"
            "fsync = off                  # throw-away local stack; never in production\n"
            "synchronous_commit = off\n"
            "full_page_writes = off\n"
        )
        if os.geteuid() == 0:
            shutil.chown(conf, "postgres", "postgres")

    def pid(self) -> int | None:
        try:
            first = (self.data / "postmaster.pid").read_text().splitlines()[0]
        except (OSError, IndexError):
            return None
        pid = int(first)
        return pid if pid_alive(pid) else None

    def start(self) -> None:
        if self.pid() is not None:
            return
        self._write_conf()
        self._run(
            [
                str(PG_BIN / "pg_ctl"),
                "start",
                "-D",
                str(self.data),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
            ],
            "pg_ctl start",
        )

    def stop(self) -> bool:
        if self.pid() is None:
            return False
        self._run(
            [str(PG_BIN / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "60"],
            "pg_ctl stop",
        )
        return True

    def version(self) -> str:
        with psycopg.connect(self.settings.superuser_conninfo(), autocommit=True) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"

    def healthy(self) -> bool:
        try:
            with psycopg.connect(self.settings.superuser_conninfo(), autocommit=True) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    def wait_ready(self, timeout_s: float = 30) -> None:
        try:
            wait_until(self.healthy, timeout_s=timeout_s, what="PostgreSQL accepting connections")
        except WaitTimeout as exc:
            raise StackError(f"{exc}; see {self.log_file}") from None

    def bootstrap(self) -> list[str]:
        """Roles, databases and the store schema, creating only what is missing.

        The admin database (the source) is set up only when this call creates
        it: its catalog schema, then `source prepare` (REPLICA IDENTITY,
        grants, publication). A source that already exists is only checked:
        restarting must not run DDL on it (catalogs of ALTER TABLE wait behind
        the portal's transactions and block its writes). Returns the check's
        findings (empty when the source is ready)."""
        s = self.settings
        with psycopg.connect(s.superuser_conninfo(), autocommit=True) as conn:
            for user, field, extra in (
                (s.admin_user, "admin_password", ""),
                (s.cdc_user, "cdc_password", " REPLICATION"),
                (s.writer_user, "writer_password", ""),
                (s.reader_user, "reader_password", ""),
            ):
                if not conn.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)
                ).fetchone():
                    conn.execute(
                        sql.SQL("CREATE ROLE {} LOGIN" + extra + " PASSWORD {}").format(
                            sql.Identifier(user), sql.Literal(s.secret(field))
                        )
                    )
            created = set()
            for db, owner, connecting in (
                (s.admin_db, s.admin_user, s.cdc_user),
                (s.store_db, s.writer_user, s.reader_user),
            ):
                if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone():
                    continue
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(db), sql.Identifier(owner)
                    )
                )
                conn.execute(
                    sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(db))
                )
                conn.execute(
                    sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                        sql.Identifier(db), sql.Identifier(connecting)
                    )
                )
                created.add(db)
        self._bootstrap_store()
        if s.admin_db in created:
            self._create_catalog()
            prepare_source(s, s.superuser_conninfo(s.admin_db))
        return check_source(s)

    def _create_catalog(self) -> None:
        """The admin portal's catalog schema, in a database we just created."""
        s = self.settings
        schema = sql.Identifier(s.admin_schema)
        with psycopg.connect(s.admin_conninfo(), autocommit=True) as conn:
            _create_schema(conn, schema, SOURCE_SCHEMA_DIR)

    def _bootstrap_store(self) -> None:
        s = self.settings
        schema = sql.Identifier(s.store_schema)
        reader = sql.Identifier(s.reader_user)
        with psycopg.connect(s.store_writer_conninfo(), autocommit=True) as conn:
            _create_schema(conn, schema, STORE_SCHEMA_DIR)
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, reader))
            conn.execute(
                sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema, reader)
            )
            conn.execute(
                sql.SQL(
                    "ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}"
                ).format(schema, reader)
            )
            # The sink's own tables hold units not yet committed: not for readers.
            for table in WRITER_ONLY_TABLES:
                conn.execute(
                    sql.SQL("REVOKE ALL ON {} FROM {}").format(sql.Identifier(table), reader)
                )
