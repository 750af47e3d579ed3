"""Register a connector with Kafka Connect, re-runnably, with errors that say
what is wrong: Connect unreachable, a database check that fails (password,
replication permission, missing table or publication), or a validation error
by field.

The flow: preflight against PostgreSQL (as the capture role) -> Connect's
validate endpoint -> idempotent PUT /connectors/{name}/config -> poll the
status until the connector and its task are RUNNING.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import requests

from catalog_view.errors import CatalogViewError
from catalog_view.settings import CAPTURED_TABLES, Settings
from catalog_view.waiting import WaitTimeout, wait_until

TIMEOUT_S = 10


class ConnectorError(CatalogViewError):
    """The connector could not be validated, registered or started."""


@dataclass(frozen=True)
class ConnectorStatus:
    name: str
    connector_state: str
    task_states: tuple[str, ...]
    trace: str | None

    @property
    def running(self) -> bool:
        return (
            self.connector_state == "RUNNING"
            and bool(self.task_states)
            and all(s == "RUNNING" for s in self.task_states)
        )

    @property
    def failed(self) -> bool:
        return self.connector_state == "FAILED" or "FAILED" in self.task_states


class ConnectClient:
    """A thin client of Kafka Connect's REST API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = f"{self.base_url}{path}"
        try:
            return requests.request(method, url, timeout=TIMEOUT_S, **kwargs)
        except requests.ConnectionError as exc:
            raise ConnectorError(
                f"Kafka Connect is not reachable at {self.base_url} ({method} {path}): "
                "is the worker running? (`catalog-view stack status`)"
            ) from exc
        except requests.Timeout as exc:
            raise ConnectorError(
                f"Kafka Connect at {self.base_url} did not answer {method} {path} "
                f"within {TIMEOUT_S}s"
            ) from exc

    def _json(self, response: requests.Response, what: str) -> Any:
        if response.status_code >= 400:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise ConnectorError(f"{what}: HTTP {response.status_code}: {message}")
        return response.json() if response.content else None

    def version(self) -> str:
        info = self._json(self._request("GET", "/"), "Connect root")
        return str(info.get("version", "?"))

    def plugins(self) -> list[dict[str, str]]:
        result: list[dict[str, str]] = self._json(
            self._request("GET", "/connector-plugins"), "list connector plugins"
        )
        return result

    def validate(self, name: str, config: dict[str, str]) -> list[str]:
        """Field errors from Connect's validate endpoint, as 'field: message' lines."""
        plugin = config["connector.class"].rsplit(".", 1)[-1]
        body = self._json(
            self._request(
                "PUT", f"/connector-plugins/{plugin}/config/validate", json={**config, "name": name}
            ),
            f"validate {plugin} config",
        )
        errors: list[str] = []
        for entry in body.get("configs", []):
            value = entry.get("value") or {}
            for message in value.get("errors", []):
                errors.append(f"{value.get('name')}: {message}")
        return errors

    def put_config(self, name: str, config: dict[str, str]) -> None:
        self._json(
            self._request("PUT", f"/connectors/{name}/config", json=config),
            f"register connector {name}",
        )

    def status(self, name: str) -> ConnectorStatus | None:
        response = self._request("GET", f"/connectors/{name}/status")
        if response.status_code == 404:
            return None
        body = self._json(response, f"status of connector {name}")
        tasks = body.get("tasks", [])
        trace = body["connector"].get("trace") or next(
            (t.get("trace") for t in tasks if t.get("trace")), None
        )
        return ConnectorStatus(
            name=name,
            connector_state=body["connector"]["state"],
            task_states=tuple(t["state"] for t in tasks),
            trace=trace,
        )

    def delete(self, name: str) -> None:
        response = self._request("DELETE", f"/connectors/{name}")
        if response.status_code not in (204, 404):
            self._json(response, f"delete connector {name}")

    def stop(self, name: str) -> None:
        """Stop the connector and its tasks, keeping its config (PUT .../stop)."""
        self._json(self._request("PUT", f"/connectors/{name}/stop"), f"stop connector {name}")

    def reset_offsets(self, name: str) -> None:
        """Forget the connector's Connect-managed offsets; it must be STOPPED."""
        self._json(
            self._request("DELETE", f"/connectors/{name}/offsets"),
            f"reset offsets of connector {name}",
        )

    def restart(self, name: str) -> None:
        response = self._request(
            "POST", f"/connectors/{name}/restart", params={"includeTasks": "true"}
        )
        self._json(response, f"restart connector {name}")


def preflight(settings: Settings, password: str | None = None) -> None:
    """Check, as the capture role, what Debezium needs but reports poorly."""
    try:
        conn = psycopg.connect(
            host=settings.pg_host,
            port=settings.pg_port,
            dbname=settings.admin_db,
            user=settings.cdc_user,
            password=password if password is not None else settings.secret("cdc_password"),
            connect_timeout=5,
        )
    except psycopg.OperationalError as exc:
        raise ConnectorError(
            f"cannot connect to database {settings.admin_db} at {settings.pg_host}:"
            f"{settings.pg_port} as {settings.cdc_user}: {str(exc).strip()}"
        ) from exc
    with conn:
        row = conn.execute(
            "SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        if not row or not row[0]:
            raise ConnectorError(
                f"role {settings.cdc_user} lacks the REPLICATION attribute: Debezium cannot "
                f"open a replication slot (ALTER ROLE {settings.cdc_user} REPLICATION)"
            )
        problems: list[str] = []
        for table in CAPTURED_TABLES:
            qualified = f"{settings.admin_schema}.{table}"
            exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (qualified,)).fetchone()
            if not exists or not exists[0]:
                problems.append(f"table {qualified} does not exist")
                continue
            granted = conn.execute(
                "SELECT has_table_privilege(%s, 'SELECT')", (qualified,)
            ).fetchone()
            if not granted or not granted[0]:
                problems.append(f"role {settings.cdc_user} may not SELECT from {qualified}")
        published = {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_publication_tables "
                "WHERE pubname = %s AND schemaname = %s",
                (settings.publication_name, settings.admin_schema),
            )
        }
        has_publication = conn.execute(
            "SELECT count(*) FROM pg_publication WHERE pubname = %s", (settings.publication_name,)
        ).fetchone()
        if not has_publication or not has_publication[0]:
            problems.append(f"publication {settings.publication_name} does not exist")
        else:
            missing = [t for t in CAPTURED_TABLES if t not in published]
            if missing:
                problems.append(
                    f"publication {settings.publication_name} lacks: {', '.join(missing)}"
                )
        if problems:
            raise ConnectorError("capture preflight failed: " + "; ".join(problems))


def summarize_trace(trace: str | None) -> str:
    """A Java stack trace -> its first line and its root cause."""
    lines = (trace or "no trace").strip().splitlines()
    causes = [line.strip() for line in lines if line.strip().startswith("Caused by:")]
    return lines[0] if not causes else f"{lines[0]} ({causes[-1]})"


def wait_for_status(
    client: ConnectClient,
    name: str,
    done: Callable[[ConnectorStatus], bool],
    timeout_s: float,
) -> ConnectorStatus:
    """Poll the connector status until `done`; a FAILED state ends the wait."""

    def poll() -> ConnectorStatus | None:
        status = client.status(name)
        if status is not None and status.failed:
            raise ConnectorError(f"connector {name} FAILED: {summarize_trace(status.trace)}")
        return status if status is not None and done(status) else None

    try:
        result = wait_until(poll, timeout_s=timeout_s, what=f"connector {name} ready")
    except WaitTimeout as exc:
        last = client.status(name)
        state = "absent" if last is None else f"{last.connector_state} {list(last.task_states)}"
        raise ConnectorError(f"{exc} (state: {state})") from None
    assert result is not None
    return result


def register(
    settings: Settings,
    config: dict[str, str],
    *,
    timeout_s: float = 60.0,
    check_database: bool = True,
) -> ConnectorStatus:
    """Validate, register (or update) and wait until RUNNING. Safe to repeat."""
    client = ConnectClient(settings.connect_endpoint)
    client.version()
    if check_database:
        preflight(settings)
    errors = client.validate(settings.connector_name, config)
    if errors:
        raise ConnectorError(
            f"Kafka Connect rejected the {settings.connector_name} config:\n  "
            + "\n  ".join(errors)
        )
    client.put_config(settings.connector_name, config)
    return wait_for_status(client, settings.connector_name, lambda s: s.running, timeout_s)
