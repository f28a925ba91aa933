# Somos: API + web + Telegram bot in one process.
# Build: docker build -t somos .   Run: docker run -p 8000:8000 -v somos-data:/data somos
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SOMOS_DATA_DIR=/data \
    SOMOS_ENVIRONMENT=production

# pg_dump/pg_restore for `somos backup` / `somos restore` with PostgreSQL (a newer client
# dumps an older server; an older client refuses a newer one).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --create-home --home-dir /app --uid 10001 somos \
    && mkdir -p /data && chown somos:somos /data

WORKDIR /app
COPY --chown=somos:somos pyproject.toml README.md ./
COPY --chown=somos:somos flows ./flows
COPY --chown=somos:somos bot ./bot
COPY --chown=somos:somos storage ./storage
COPY --chown=somos:somos api ./api
COPY --chown=somos:somos locales ./locales

# Editable install keeps locales/ beside the packages, where the code looks for it.
RUN pip install -e . \
    && pybabel compile -d locales -D messages

USER somos
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"

# `somos init` is idempotent: it creates or upgrades the schema and keys on first start.
# Its output here is the container log, not a terminal: the recovery key and the first
# admin's secrets go to /data/secretos-iniciales.txt (0600), never to the log. Read it once
# with `docker exec <container> cat /data/secretos-iniciales.txt`, then delete it.
CMD ["sh", "-c", "somos init && exec somos serve --host 0.0.0.0 --port 8000"]
