"""HTTP handlers, one module per resource (operationIds of openapi.yaml)."""
