"""JVM jars of the stack, resolved from Maven Central by the poms in stack/.

Each component's jars land in its own directory under the jar cache; a stamp
holding the pom's hash makes a second resolution a no-op.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
from pathlib import Path

from catalog_view.errors import StackError
from catalog_view.settings import REPO_ROOT

log = logging.getLogger(__name__)

POM_DIR = REPO_ROOT / "stack"
COMPONENTS = ("kafka", "connect", "debezium", "flink")


def jar_root() -> Path:
    return Path(os.environ.get("CATALOG_VIEW_JAR_DIR", REPO_ROOT / ".cache" / "jars"))


def component_dir(component: str) -> Path:
    if component == "debezium":
        # Connect wants one sub-directory per plugin below plugin.path.
        return jar_root() / "plugins" / "debezium-connector-postgres"
    return jar_root() / component


def plugin_path() -> Path:
    return jar_root() / "plugins"


def _pom(component: str) -> Path:
    return POM_DIR / component / "pom.xml"


def _stamp(component: str) -> str:
    return hashlib.sha256(_pom(component).read_bytes()).hexdigest()


def _mvn(args: list[str], what: str) -> None:
    """Run Maven quietly; on failure, the tail of its output names the cause."""
    result = subprocess.run(["mvn", "-q", "-B", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise StackError(f"mvn could not {what}:\n{tail}")


def resolved(component: str) -> bool:
    stamp = component_dir(component) / ".pom-sha256"
    return stamp.is_file() and stamp.read_text().strip() == _stamp(component)


def resolve(component: str) -> Path:
    """Copy the component's jars from Maven (cached in ~/.m2); idempotent."""
    target = component_dir(component)
    if resolved(component):
        return target
    if shutil.which("mvn") is None:
        raise StackError("mvn not found: install Maven (apt-get install maven)")
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    log.info("resolving %s from Maven Central ...", component)
    _mvn(
        ["-f", str(_pom(component)), "dependency:copy-dependencies", f"-DoutputDirectory={target}"],
        f"resolve the {component} jars",
    )
    (target / ".pom-sha256").write_text(_stamp(component) + "\n")
    return target


JVM_MODULE = REPO_ROOT / "jvm"
SINK_JAR = "catalog-view-sink.jar"


def _module_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted([JVM_MODULE / "pom.xml", *(JVM_MODULE / "src").rglob("*.java")]):
        digest.update(path.relative_to(JVM_MODULE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_sink() -> Path:
    """Build the project's JVM module (the transactional store sink) with Maven
    and put its jar beside the Flink connector jars; a no-op when up to date."""
    target = component_dir("flink") / SINK_JAR
    stamp = component_dir("flink") / ".sink-sha256"
    digest = _module_digest()
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == digest:
        return target
    log.info("building the JVM sink module (jvm/) ...")
    _mvn(["-f", str(JVM_MODULE / "pom.xml"), "package"], "build jvm/")
    built = sorted((JVM_MODULE / "target").glob("catalog-view-sink-*.jar"))
    if not built:
        raise StackError("mvn built jvm/ but left no catalog-view-sink-*.jar in jvm/target")
    shutil.copyfile(built[-1], target)
    stamp.write_text(digest + "\n")
    return target


def resolve_all() -> None:
    for component in COMPONENTS:
        resolve(component)
    build_sink()


def version_of(component: str, artifact_prefix: str) -> str:
    """The version in a jar file name, e.g. kafka-clients-4.3.0.jar -> 4.3.0."""
    for jar in sorted(component_dir(component).glob(f"{artifact_prefix}-*.jar")):
        rest = jar.stem[len(artifact_prefix) + 1 :]
        if rest[:1].isdigit():
            return rest
    return "?"


def classpath(component: str) -> str:
    return str(component_dir(component) / "*")


# Flink's Prometheus reporter: loaded from the job JVM's classpath at start-up,
# not from the job's jars (pipeline.jars, a user class loader).
REPORTER_PREFIX = "flink-metrics-prometheus-"


def flink_jar_urls() -> list[str]:
    return [
        jar.as_uri()
        for jar in sorted(component_dir("flink").glob("*.jar"))
        if not jar.name.startswith(REPORTER_PREFIX)
    ]


def metric_reporter_jars() -> list[Path]:
    return sorted(component_dir("flink").glob(f"{REPORTER_PREFIX}*.jar"))
