"""A stand-in for the INSEE Sirene 3.11 API, speaking its exact JSON, for development and tests."""
