# syntax=docker/dockerfile:1
# Somos: the API, the web pages and the Telegram bot in one process. With PostgreSQL and
# an optional HTTPS proxy: compose.yaml and docs/operacion.md. Alone:
#   docker build -t somos .
#   docker run --rm -v somos-data:/data somos init      # once, and after each upgrade
#   docker run -d -p 127.0.0.1:8000:8000 -v somos-data:/data somos
#
# The base image is pinned by digest (python:3.11-slim-bookworm, Python 3.11.16, built
# 2026-08-25). To move to a newer build, read the digest of the tag now and put it in both
# FROM lines:
#   docker buildx imagetools inspect python:3.11-slim-bookworm --format '{{json .Manifest.Digest}}'

# ---- build: the wheel (with its compiled catalogs) and the locked dependencies ---------
FROM python:3.11-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
# requirements.lock (`make lock`): every dependency pinned with its hashes.
COPY pyproject.toml setup.py MANIFEST.in README.md requirements.lock requirements-dev.lock ./
COPY flows ./flows
COPY bot ./bot
COPY storage ./storage
COPY api ./api
COPY locales ./locales

# The wheel is built with the locked build tools (setuptools, Babel: requirements-dev.lock,
# each checked against its hash), not whatever PyPI has today: --no-build-isolation. It
# carries the templates, the static files and the catalogs, compiled as it is built
# (setup.py): nothing is copied into site-packages by hand. This venv stays in this stage.
RUN python -m venv /opt/build \
    && /opt/build/bin/pip install --require-hashes -r requirements-dev.lock \
    && /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /dist . \
    && cp requirements.lock /dist/

# ---- runtime ------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/somos/bin:$PATH \
    SOMOS_DATA_DIR=/data \
    SOMOS_ENVIRONMENT=production

# pg_dump and pg_restore for `somos backup` / `somos restore` with PostgreSQL, of the
# server's major version (15, as in compose.yaml: an older pg_dump refuses a newer server).
# The version is Debian bookworm's (security updates); when Debian replaces it, read the
# new one with `apt-cache policy postgresql-client-15` in this image and change it here.
# Pango and a font for the bulletin's PDF (WeasyPrint, `somos bulletin`), pinned the same way.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15=15.20-0+deb12u1 \
        libpango-1.0-0=1.50.12+ds-1 libpangoft2-1.0-0=1.50.12+ds-1 fonts-dejavu-core=2.37-6 \
    && rm -rf /var/lib/apt/lists/*

# Somos in /opt/somos, owned by root: the service user reads it and cannot change it. The
# bytecode is compiled here, since nobody may write it later (a file a package ships that
# does not compile, such as a template, is only reported).
RUN --mount=type=bind,from=build,source=/dist,target=/dist \
    python -m venv /opt/somos \
    && /opt/somos/bin/pip install --require-hashes -r /dist/requirements.lock \
    && /opt/somos/bin/pip install --no-deps /dist/somos-*.whl \
    && { /opt/somos/bin/python -m compileall -q /opt/somos/lib/python3.11/site-packages \
        || echo "compileall: a file did not compile; Python reads it uncompiled."; } \
    && chmod -R go-w /opt/somos

# A numeric user with no shell and no home; /data (the key file, the SQLite database, the
# backups, the initial secrets) is its own, 0700.
RUN groupadd --system --gid 10001 somos \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin somos \
    && install -d -o 10001 -g 10001 -m 0700 /data

USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/opt/somos/bin/python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]

# `somos init` runs apart, once before the first start and after each upgrade (compose.yaml
# does it in its `init` service). Without a terminal it writes the recovery key and the
# first administrator's secrets to /data/secretos-iniciales.txt (0600), never to the log.
ENTRYPOINT ["somos"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
