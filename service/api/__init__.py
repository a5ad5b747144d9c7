"""HTTP layer: routes, HTTP-only schemas and the error translation."""
