"""Resolving the Kafka broker's jars from Maven Central into a local cache."""

import os
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

from bria_fleet.errors import BriaFleetError

KAFKA_VERSION = "4.3.1"
"""The Apache Kafka release the local broker runs (``org.apache.kafka:kafka_2.13``)."""

METRICS_AGENT = "io.prometheus.jmx:jmx_prometheus_javaagent:1.0.1"
"""The Prometheus JMX exporter, run as a Java agent when the broker should serve metrics."""

CACHE_DIR_ENV = "BRIA_FLEET_CACHE_DIR"
_COMPLETE_MARKER = ".complete"
_MAVEN_TIMEOUT_SECONDS = 900


_CHECKOUT = Path(__file__).resolve().parents[3]


def cache_root() -> Path:
    """The fleet's cache, wherever the command runs from.

    ``$BRIA_FLEET_CACHE_DIR`` if set; else the checkout's ``.cache`` when the package runs
    from a source checkout (the Makefile's editable install); else
    ``$XDG_CACHE_HOME/bria-fleet`` (``~/.cache/bria-fleet``).
    """
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured).absolute()
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "services").is_dir():
        return _CHECKOUT / ".cache"
    user_cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(user_cache) / "bria-fleet"


def jar_dir(version: str = KAFKA_VERSION, root: Path | None = None) -> Path:
    """Where the jars of Kafka ``version`` live once fetched."""
    return (root or cache_root()) / "kafka-jars" / version


def jars_present(version: str = KAFKA_VERSION, root: Path | None = None) -> bool:
    """Whether the jars of Kafka ``version`` are already in the cache."""
    return (jar_dir(version, root) / _COMPLETE_MARKER).is_file()


def fetch_jars(version: str = KAFKA_VERSION, root: Path | None = None) -> Path:
    """Put the broker's runtime jars in the cache with Maven and return their directory.

    Idempotent: returns at once when the jars are already there. Concurrent fetches are
    safe: each resolves into a directory of its own and the first to finish wins the rename.
    """
    target = jar_dir(version, root)
    if jars_present(version, root):
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BriaFleetError(
            "Maven (mvn) is not on the PATH; install Maven 3.8 or newer to fetch the Kafka jars."
        )
    if target.exists():
        shutil.rmtree(target)  # an interrupted or hand-made copy: fetch it again
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{version}-", dir=target.parent) as work:
        staging = Path(work) / "jars"
        _run_maven(mvn, version, Path(work), staging)
        (staging / _COMPLETE_MARKER).write_text(f"org.apache.kafka:kafka_2.13:{version}\n")
        try:
            staging.rename(target)
        except OSError:
            if not jars_present(version, root):
                raise
    return target


def metrics_agent_jar(root: Path | None = None) -> Path:
    """The JMX exporter agent's jar in the cache, fetched with Maven on first use."""
    _, artifact, version = METRICS_AGENT.split(":")
    target = (root or cache_root()) / "kafka-agents" / f"{artifact}-{version}.jar"
    if target.is_file():
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BriaFleetError("Maven (mvn) is not on the PATH; it fetches the JMX exporter agent.")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".agent-", dir=target.parent) as work:
        command = [
            mvn,
            "-B",
            "-q",
            "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
            f"-Dartifact={METRICS_AGENT}",
            f"-DoutputDirectory={work}",
        ]
        result = subprocess.run(
            command,
            cwd=work,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_MAVEN_TIMEOUT_SECONDS,
            check=False,
        )
        fetched = Path(work) / target.name
        if result.returncode != 0 or not fetched.is_file():
            raise BriaFleetError(
                f"Maven could not fetch {METRICS_AGENT} ({_first_error(result.stdout)});"
                " check access to Maven Central and retry."
            )
        fetched.replace(target)
    return target


def _run_maven(mvn: str, version: str, work: Path, output: Path) -> None:
    pom = work / "pom.xml"
    pom.write_bytes(resources.files(__package__).joinpath("pom.xml").read_bytes())
    command = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={output}",
        f"-Dkafka.version={version}",
    ]
    try:
        result = subprocess.run(
            command,
            cwd=work,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_MAVEN_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise BriaFleetError(
            f"Maven did not fetch the Kafka {version} jars within {_MAVEN_TIMEOUT_SECONDS} s;"
            " check access to Maven Central (or your mirror in ~/.m2/settings.xml) and retry."
        ) from error
    if result.returncode != 0:
        raise BriaFleetError(
            f"Maven could not fetch the Kafka {version} jars ({_first_error(result.stdout)});"
            " check access to Maven Central (or your mirror in ~/.m2/settings.xml) and retry."
        )


def _first_error(output: str) -> str:
    for line in output.splitlines():
        if line.startswith("[ERROR]") and line.strip() != "[ERROR]":
            return line.removeprefix("[ERROR]").strip()
    return "no error message"
