"""Composition root: settings, FastAPI app, CLI, jobs. The only package that reads the environment."""
