# bria-fleet: one image for every command (workers, topics, simulator, submit, tail).
# Multi-stage: the build stage installs the package and its dependencies into a virtual
# environment; the runtime stage copies only that environment (no compilers, no pip cache).
# BASE_IMAGE must be a Debian-based Python 3.11 image; both stages use the same one so the
# environment's interpreter path stays valid.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python3 -m venv /opt/venv
# Dependencies first, from pyproject.toml alone, so a code change reuses this layer.
COPY pyproject.toml README.md ./
RUN mkdir -p services/bria_fleet contracts/bria_fleet_contracts \
 && touch services/bria_fleet/__init__.py contracts/bria_fleet_contracts/__init__.py \
 && /opt/venv/bin/pip install --no-compile . \
 && /opt/venv/bin/pip uninstall --yes bria-fleet
COPY contracts ./contracts
COPY services ./services
RUN /opt/venv/bin/pip install --no-compile --no-deps . \
 && /opt/venv/bin/python -m compileall -q /opt/venv/lib

FROM ${BASE_IMAGE} AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="bria-fleet" \
      org.opencontainers.image.description="Kafka worker fleet for Bria tailored generation" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/bria-ai/bria-fleet"
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HTTP_PORT=8000
WORKDIR /tmp
USER 10001:10001
EXPOSE 8000
# The worker handles SIGTERM itself (drain, commit, exit 0), also as PID 1. Orchestrators
# probe /healthz and /readyz on HTTP_PORT, so the image has no HEALTHCHECK.
# The default runs all four domains in one container (one process each); deployments run
# one domain per container: `worker ingest`, `worker generation`, ...
ENTRYPOINT ["bria-fleet"]
CMD ["worker", "all"]
