"""The API's routes, one module per resource: ops (health, readiness, metrics, the page), scoring, model."""
