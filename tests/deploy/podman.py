"""podman on a machine with no Docker engine: runc, explicit ulimits, local Debian base images.

Base images are made with mmdebstrap from the machine's own apt sources and imported into
podman; the root filesystems are cached in ``.cache/containers`` under a key of their inputs,
so reruns reuse them. ``python -m tests.deploy.podman`` builds every image ahead of the tests.
"""

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from tests.deploy.tooling import REPO

CACHE = REPO / ".cache" / "containers"
APT_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
SUITE = "bookworm"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# crun refuses this host's hybrid cgroups, and podman's default nofile/nproc limits are
# above what the sandbox allows (see README "Deploying").
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
"""
BASES: dict[str, tuple[str, ...]] = {
    "python": ("python3", "python3-venv", "ca-certificates"),
    "jre": ("openjdk-17-jre-headless", "ca-certificates"),
    "prometheus": ("prometheus", "wget", "ca-certificates"),
}
_EXCLUDED = ("/usr/share/doc/*", "/usr/share/man/*", "/usr/share/info/*", "/usr/share/locale/*")
FLEET_IMAGE = "localhost/bria-fleet:test"
KAFKA_IMAGE = "localhost/bria-kafka:test"
PROMETHEUS_IMAGE = "localhost/bria-prometheus:test"


class PodmanError(RuntimeError):
    """A podman (or mmdebstrap) command failed; the message carries its output."""


def environment() -> dict[str, str]:
    """The environment for podman and podman-compose: our containers.conf."""
    CACHE.mkdir(parents=True, exist_ok=True)
    conf = CACHE / "containers.conf"
    if not conf.is_file() or conf.read_text() != CONTAINERS_CONF:
        conf.write_text(CONTAINERS_CONF)
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def podman(
    *args: str, check: bool = True, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``podman args``; raises PodmanError with its output when ``check`` and it fails."""
    return _run(["podman", *args], check=check, timeout=timeout)


def _run(command: list[str], *, check: bool, timeout: float) -> subprocess.CompletedProcess[str]:
    if shutil.which(command[0]) is None:
        raise PodmanError(f"{command[0]} is not installed; run `make deploy-tools`.")
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=environment(),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise PodmanError(
            f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result


def image_exists(tag: str) -> bool:
    """Whether podman has an image called ``tag``."""
    return podman("image", "exists", tag, check=False).returncode == 0


def _key(name: str) -> str:
    inputs = {
        "suite": SUITE,
        "packages": BASES[name],
        "excluded": _EXCLUDED,
        "hooks": 1,
        "sources": APT_SOURCES.read_text(),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:12]


def base_tag(name: str) -> str:
    """The podman tag of base image ``name``; it changes with any of its inputs."""
    return f"localhost/bria-base-{name}:{_key(name)}"


def rootfs(name: str) -> Path:
    """The cached root filesystem tar of base ``name``, made with mmdebstrap if missing."""
    path = CACHE / f"rootfs-{name}-{_key(name)}.tar"
    if path.is_file():
        return path
    partial = path.with_suffix(".partial.tar")
    command = [
        "mmdebstrap",
        "--quiet",
        "--variant=apt",
        f"--include={','.join(BASES[name])}",
        "--aptopt=Acquire::Check-Valid-Until false",
        *(f"--dpkgopt=path-exclude={excluded}" for excluded in _EXCLUDED),
        # openjdk's postinst links its man pages there, excluded or not.
        '--essential-hook=mkdir -p "$1/usr/share/man/man1"',
        SUITE,
        str(partial),
        str(APT_SOURCES),
    ]
    try:
        _run(command, check=True, timeout=900)
    finally:
        if not partial.is_file() or partial.stat().st_size == 0:
            partial.unlink(missing_ok=True)
    partial.rename(path)
    return path


def base_image(name: str) -> str:
    """The tag of the local Debian base image ``name`` (one of BASES), made if missing."""
    tag = base_tag(name)
    if not image_exists(tag):
        podman(
            "import",
            "--change",
            "ENV LANG=C.UTF-8",
            "--change",
            'CMD ["/bin/bash"]',
            str(rootfs(name)),
            tag,
        )
    return tag


def prepare_bases() -> None:
    """Make the missing base images, one after another.

    (Three mmdebstraps side by side were no faster on two shared cores: 203 s against
    about 170 s one by one.)
    """
    for name in BASES:
        base_image(name)


def build(tag: str, context: Path, *, containerfile: Path, build_args: dict[str, str]) -> None:
    """``podman build`` with the host network and the CA bundle (for pip) mounted read-only."""
    args = [
        "build",
        "--network",
        "host",
        "--volume",
        f"{CA_BUNDLE}:{CA_BUNDLE}:ro",
        "--file",
        str(containerfile),
        "--tag",
        tag,
    ]
    for key, value in build_args.items():
        args += ["--build-arg", f"{key}={value}"]
    podman(*args, str(context), timeout=900)


def fleet_image() -> str:
    """The repository's Dockerfile built on the local Debian Python 3.11 base."""
    build(
        FLEET_IMAGE,
        REPO,
        containerfile=REPO / "Dockerfile",
        build_args={"BASE_IMAGE": base_image("python")},
    )
    return FLEET_IMAGE


def kafka_image(jars: Path) -> str:
    """A single-node Kafka image from the local Debian JRE base and the cached jars."""
    context = CACHE / "kafka-context"
    if context.exists():
        shutil.rmtree(context)
    shutil.copytree(REPO / "deploy" / "images" / "kafka", context)
    shutil.copytree(jars, context / "libs", ignore=shutil.ignore_patterns(".*"))
    build(
        KAFKA_IMAGE,
        context,
        containerfile=context / "Containerfile",
        build_args={"BASE_IMAGE": base_image("jre")},
    )
    return KAFKA_IMAGE


def prometheus_image() -> str:
    """Debian's Prometheus as an image (the compose file's prom/prometheus stand-in)."""
    context = REPO / "deploy" / "images" / "prometheus"
    build(
        PROMETHEUS_IMAGE,
        context,
        containerfile=context / "Containerfile",
        build_args={"BASE_IMAGE": base_image("prometheus")},
    )
    return PROMETHEUS_IMAGE


def build_all(jars: Path) -> dict[str, float]:
    """Every image the container tests use; seconds each took."""
    took: dict[str, float] = {}
    started = time.monotonic()
    prepare_bases()
    took["base root filesystems"] = round(time.monotonic() - started, 1)
    for name, make in (
        ("fleet", fleet_image),
        ("kafka", lambda: kafka_image(jars)),
        ("prometheus", prometheus_image),
    ):
        started = time.monotonic()
        make()
        took[name] = round(time.monotonic() - started, 1)
    return took


if __name__ == "__main__":
    from bria_fleet.localkafka import fetch_jars

    print(build_all(fetch_jars()))
