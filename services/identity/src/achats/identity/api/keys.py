"""JWKS and discovery."""

from .context import identity


def jwks():
    return identity().keys.jwks(), 200, {"Cache-Control": "public, max-age=60"}


def discovery():
    settings = identity().settings
    base = settings.issuer.rstrip("/")
    return {
        "issuer": settings.issuer,
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "token_endpoint": f"{base}/oauth/token",
        "grant_types_supported": ["client_credentials", "refresh_token", "password"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }, 200
