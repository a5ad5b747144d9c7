# Image for the API, the Ray head and the Ray workers. Build: docker build -t procure .
# EXTRAS picks the optional dependencies: postgres (psycopg, for PROCURE_DATABASE_URL=postgresql+psycopg://…)
# ray (ray[default], for PROCURE_RAY_ADDRESS and the `ray start` of the head and worker services) and parquet
# (pyarrow, for `procure batch ... --out results.parquet`).
FROM python:3.11-slim
ARG EXTRAS=postgres,ray,parquet
WORKDIR /app
COPY pyproject.toml README.md ./
COPY optimizer optimizer
COPY corpus corpus
COPY prompts prompts
COPY service service
RUN pip install --no-cache-dir ".[${EXTRAS}]"
ENV PROCURE_HOST=0.0.0.0 PROCURE_DATA_DIR=/data RAY_USAGE_STATS_ENABLED=0
EXPOSE 8000
CMD ["procure", "serve"]
