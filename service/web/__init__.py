"""The planner's web page: a single page served by the API, its static assets, chart specs and HTML reports."""
