# Image for the API, the Ray head and the Ray workers. Build: docker build -t procure .
# EXTRAS picks the optional dependencies: postgres (psycopg, for PROCURE_DATABASE_URL=postgresql+psycopg://…)
# ray (ray[default], for PROCURE_RAY_ADDRESS and the `ray start` of the head and worker services) and parquet
# (pyarrow, for `procure batch ... --out results.parquet`).
# Runs as the unprivileged user `procure` (uid 10001); data lives in /data, owned by that user.
# Binding 0.0.0.0 inside the container means API keys are required (PROCURE_SECURITY__REQUIRE_KEYS=true is
# also set explicitly): create one with `docker compose run --rm api procure keys create --scope read`.
FROM python:3.11-slim
ARG EXTRAS=postgres,ray,parquet
WORKDIR /app
COPY pyproject.toml README.md ./
COPY optimizer optimizer
COPY corpus corpus
COPY prompts prompts
COPY service service
RUN pip install --no-cache-dir ".[${EXTRAS}]" \
    && groupadd --system --gid 10001 procure \
    && useradd --system --uid 10001 --gid procure --home-dir /data --shell /usr/sbin/nologin procure \
    && mkdir -p /data && chown procure:procure /data
ENV PROCURE_HOST=0.0.0.0 PROCURE_DATA_DIR=/data RAY_USAGE_STATS_ENABLED=0 PROCURE_ENVIRONMENT=production \
    PROCURE_SECURITY__REQUIRE_KEYS=true HOME=/data TMPDIR=/tmp
USER procure:procure
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"]
CMD ["procure", "serve"]
