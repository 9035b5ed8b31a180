"""HTTP handlers of identity, one module per resource; the rules live in the service modules."""
