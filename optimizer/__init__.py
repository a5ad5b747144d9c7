"""Domain core: catalog, compliance, estimator, cost model and the CP-SAT purchase optimizer.

Pure Python plus pydantic, PyYAML (data files only) and OR-Tools; it never reads environment variables
and never imports the service, corpus or prompts packages.
"""
