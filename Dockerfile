# Image for the API and batch workers. Build: docker build -t procure .
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY optimizer optimizer
COPY corpus corpus
COPY prompts prompts
COPY service service
ARG EXTRAS=postgres,ray,parquet
RUN pip install --no-cache-dir ".[${EXTRAS}]"
ENV PROCURE_HOST=0.0.0.0 PROCURE_DATA_DIR=/data
EXPOSE 8000
CMD ["procure", "serve"]
