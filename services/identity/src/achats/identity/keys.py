"""Signing keys (persisted, rotated, retired ones kept while their tokens live) and access tokens."""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from datetime import timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from achats.chassis import clock
from achats.chassis.db import Database

from .models import SigningKey

ALGORITHM = "ES256"  # ECDSA P-256: small tokens, fast to sign, verified by every JWT library


class KeyRing:
    """The active key signs; retired keys stay in the JWKS until every token they signed has expired."""

    def __init__(self, db: Database, *, rotation: timedelta, keep_retired: timedelta, secret: str = ""):
        self.db = db
        self.rotation = rotation
        self.keep_retired = keep_retired
        self.secret = secret.encode() if secret else None
        self._lock = threading.RLock()  # active() may rotate, which resets the cached key
        self._active: tuple[str, ec.EllipticCurvePrivateKey, float] | None = None

    # --- keys -----------------------------------------------------------------------------------

    def _load_private(self, pem: str) -> ec.EllipticCurvePrivateKey:
        return serialization.load_pem_private_key(pem.encode(), password=self.secret)

    def _new_key(self) -> SigningKey:
        private = ec.generate_private_key(ec.SECP256R1())
        kid = f"{clock.now():%Y%m%d}-{secrets.token_hex(4)}"
        encryption = (serialization.BestAvailableEncryption(self.secret) if self.secret
                      else serialization.NoEncryption())
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()
        public = json.loads(ECAlgorithm.to_jwk(private.public_key()))
        public.update({"kid": kid, "use": "sig", "alg": ALGORITHM})
        return SigningKey(kid=kid, algorithm=ALGORITHM, private_pem=pem, public_jwk=json.dumps(public))

    def active(self) -> tuple[str, ec.EllipticCurvePrivateKey]:
        with self._lock:
            if self._active and self._active[2] > time.monotonic():
                return self._active[0], self._active[1]
            key = self._current_or_create()
            # Re-read from the database every minute: another replica may have rotated.
            self._active = (key.kid, self._load_private(key.private_pem), time.monotonic() + 60)
            return self._active[0], self._active[1]

    def _current_or_create(self) -> SigningKey:
        with self.db.session() as session:
            key = session.execute(select(SigningKey).where(SigningKey.retired_at.is_(None))
                                  .order_by(SigningKey.created_at.desc())).scalars().first()
        if key is not None and key.created_at > clock.now() - self.rotation:
            return key
        return self.rotate()

    def rotate(self) -> SigningKey:
        """A new active key; the previous ones are retired (still published for verification)."""
        new = self._new_key()
        with self.db.unit_of_work() as uow:
            now = clock.now()
            for old in uow.session.execute(select(SigningKey).where(SigningKey.retired_at.is_(None))).scalars():
                old.retired_at = now
            uow.session.add(new)
            try:
                uow.commit()
            except IntegrityError:  # vanishingly unlikely kid clash: try again
                return self.rotate()
        with self._lock:
            self._active = None
        return new

    def jwks(self) -> dict:
        horizon = clock.now() - self.keep_retired
        with self.db.session() as session:
            keys = session.execute(select(SigningKey).order_by(SigningKey.created_at.desc())).scalars().all()
            published = [json.loads(k.public_jwk) for k in keys
                         if k.retired_at is None or k.retired_at > horizon]
        if not published:
            self.active()
            return self.jwks()
        return {"keys": published}

    # --- tokens ---------------------------------------------------------------------------------

    def sign(self, claims: dict, *, ttl: int, issuer: str, audience: str) -> str:
        kid, private = self.active()
        now = int(time.time())
        payload = {"iss": issuer, "aud": audience, "iat": now, "nbf": now, "exp": now + ttl,
                   "jti": str(uuid.uuid4()), **claims}
        return jwt.encode(payload, private, algorithm=ALGORITHM, headers={"kid": kid, "typ": "at+jwt"})

