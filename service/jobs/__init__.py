"""Batch optimization jobs: sweep specs, a durable store, workers, executors, result files and summaries."""
