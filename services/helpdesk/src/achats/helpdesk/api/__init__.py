"""HTTP handlers of the helpdesk, one module per resource; the rules live in the service modules."""
