"""HTTP handlers of the company registry, one module per resource; rules live in the service modules."""
