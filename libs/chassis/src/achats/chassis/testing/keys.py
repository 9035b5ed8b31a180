"""Signing keys and access tokens for tests: a JWKS to serve and tokens that verify against it."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


class TestKeys:
    """An RSA-2048 (RS256) or EC P-256 (ES256) key pair with a kid, like identity's."""

    __test__ = False  # not a pytest test class

    def __init__(self, kind: Literal["RSA", "EC"] = "RSA", *, kid: str | None = None,
                 issuer: str | None = None, audience: str | None = None) -> None:
        self.kind = kind
        self.kid = kid or f"test-{uuid.uuid4().hex[:12]}"
        self.issuer = issuer
        self.audience = audience
        self.private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
        if kind == "RSA":
            self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.alg = "RS256"
        elif kind == "EC":
            self.private_key = ec.generate_private_key(ec.SECP256R1())
            self.alg = "ES256"
        else:
            raise ValueError(f"unsupported key kind {kind!r}")
        self.public_key = self.private_key.public_key()
        # The URL of the JWKS that publishes this key, while the ``keys`` fixture serves it: the apps of a test
        # get it as their JWKS_URL and verify tokens the way production does.
        self.jwks_url: str | None = None

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)

    def jwk(self) -> dict[str, Any]:
        """The public JWK (with kid, alg, use)."""
        algorithm = RSAAlgorithm if self.kind == "RSA" else ECAlgorithm
        data = json.loads(algorithm.to_jwk(self.public_key))
        data.update(kid=self.kid, alg=self.alg, use="sig")
        return data

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk()]}

    def claims(self, claims: dict[str, Any] | None = None, *, exp_in: float = 300,
               **overrides: Any) -> dict[str, Any]:
        """Default claims, updated by ``claims`` then ``overrides``; a None value drops the claim."""
        now = int(time.time())
        payload: dict[str, Any] = {"sub": "user-1", "roles": ["supplier"], "iat": now,
                                   "exp": now + int(exp_in)}
        if self.issuer:
            payload["iss"] = self.issuer
        if self.audience:
            payload["aud"] = self.audience
        payload.update(claims or {})
        payload.update(overrides)
        return {k: v for k, v in payload.items() if v is not None}

    def token(self, claims: dict[str, Any] | None = None, *, kid: str | None = None, exp_in: float = 300,
              **overrides: Any) -> str:
        """A signed access token; ``kid`` overrides the header kid (e.g. to test unknown keys)."""
        return jwt.encode(self.claims(claims, exp_in=exp_in, **overrides), self.private_key,
                          algorithm=self.alg, headers={"kid": kid or self.kid})


class JWKSServer:
    """A real local HTTP server publishing a JWKS (as identity's ``/.well-known/jwks.json``), counting fetches;
    ``status`` set to an error code makes it fail."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        self.fetches = 0
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.fetches += 1
                body = json.dumps(outer.jwks).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.httpd.shutdown()
            self.thread.join()
        self.httpd.server_close()
