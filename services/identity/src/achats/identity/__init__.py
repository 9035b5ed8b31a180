"""achats.identity: registration, login, tokens, password recovery and accounts of the platform users."""
