"""Events the signature service publishes (contract: asyncapi.yaml)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from achats.chassis.bus import publish
from achats.chassis.clock import iso

from .models import Verification

SOURCE = "/signature"
VERIFICATION_COMPLETED = "signature.verification.completed"


def verification_completed(session: Session, verification: Verification) -> None:
    """A document's signatures were verified: its hash and the verdict, never the document nor the signer."""
    publish(session, VERIFICATION_COMPLETED, {
        "verification_id": str(verification.id), "document_sha256": verification.document_sha256,
        "format": verification.format, "signature_count": verification.signature_count,
        "verdict": verification.verdict, "indications": verification.indications,
        "verified_at": iso(verification.created_at),
    }, source=SOURCE, subject=str(verification.id))
