"""The guide's signing steps: documents (several at once), a certificate, the PIN in the assistant only, the
format, then for each document the two-step protocol with the signature service, the signed file saved beside
the original — written whole or not at all — and a summary."""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from . import errors
from .errors import AssistantError
from .service import SignatureService
from .tokens import Keystore, PinProvider

# The level asked first: B-T (a timestamp proves the certificate was valid when signing, what the arrêté's art. 5
# check needs); when the service has no timestamping (422 tsa_not_configured, « seul le niveau B-B est possible »)
# the assistant takes the level the service offers.
DEFAULT_LEVEL = "B-T"
FALLBACK_CODES = {"tsa_not_configured": "B-B"}
STOP_CODES = {"pin_incorrect", "pin_locked", "pin_length", "pin_expired", "token_removed", "cancelled",
              "pkcs12_password", "login_required", "service_unreachable"}


@dataclass
class Outcome:
    document: str
    status: str  # signed | failed | cancelled | not_done
    output: str | None = None
    format: str | None = None
    level: str | None = None
    code: str | None = None
    message: str | None = None


def choose_format(content: bytes, detached: str = "cades") -> str:
    """PAdES for a PDF (the signature inside it); CAdES (or XAdES) detached for any other file."""
    return "pades" if content[:1024].lstrip().startswith(b"%PDF-") else detached


def write_atomically(target: Path, content: bytes) -> None:
    """The file appears whole or not at all: a temporary file of the same folder, flushed, then renamed."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class _OncePin:
    """The PIN asked once for the batch, kept in memory for it only."""

    def __init__(self, provider: PinProvider) -> None:
        self.provider = provider
        self.pin: str | None = None
        self.asked = False

    def __call__(self, info):
        if not self.asked:
            self.pin, self.asked = self.provider(info), True
        return self.pin

    def forget(self) -> None:
        self.pin = None


def sign_documents(paths: Iterable[str | Path], certificate_ref: str, *, keystore: Keystore,
                   service: SignatureService, pin_provider: PinProvider, level: str | None = None,
                   detached: str = "cades") -> list[Outcome]:
    """Sign each document; stop at the first error of the token, the PIN or the session (the next documents
    are ``not_done``), go on after an error of one document (a refused file)."""
    info = keystore.certificate(certificate_ref)
    if not info.usable:
        warning = next(w for w in info.warnings() if w["code"] in ("expired", "not_yet_valid", "not_for_signing"))
        raise AssistantError(f"certificate_{warning['code']}", warning["message"])
    pin = _OncePin(pin_provider)
    outcomes: list[Outcome] = []
    pending = [Path(p) for p in paths]
    try:
        while pending:
            path = pending.pop(0)
            try:
                outcomes.append(_sign_one(path, info, keystore, service, pin, level, detached))
            except AssistantError as exc:
                status = "cancelled" if exc.code == "cancelled" else "failed"
                outcomes.append(Outcome(str(path), status, code=exc.code, message=exc.message))
                if exc.code in STOP_CODES:
                    break
            except KeyboardInterrupt:
                outcomes.append(Outcome(str(path), "cancelled", code="cancelled", message=errors.CANCELLED[1]))
                break
    finally:
        pin.forget()
    outcomes.extend(Outcome(str(p), "not_done", message="Non signé : la signature a été interrompue avant ce "
                                                        "document.") for p in pending)
    return outcomes


def _sign_one(path: Path, info, keystore: Keystore, service: SignatureService, pin: _OncePin, level: str | None,
              detached: str) -> Outcome:
    try:
        content = path.read_bytes()
    except OSError:
        raise AssistantError("document_unreadable", f"Le document « {path.name} » ne peut pas être lu.") from None
    format = choose_format(content, detached)
    wanted = level or DEFAULT_LEVEL
    try:
        session = service.open_session(content, path.name, info.pem_with_chain(), format=format, level=wanted)
    except AssistantError as exc:
        if level is not None or exc.code not in FALLBACK_CODES:
            raise
        wanted = FALLBACK_CODES[exc.code]
        session = service.open_session(content, path.name, info.pem_with_chain(), format=format, level=wanted)
    try:
        value = keystore.sign(info.ref, base64.b64decode(session["data_to_be_signed"]), pin,
                              algorithm=session.get("signature_algorithm") or "rsa_pkcs1v15_sha256")
        signed, name = service.complete(session["id"], base64.b64encode(value).decode())
    except BaseException:
        service.cancel(session["id"])
        raise
    target = path.with_name(Path(name or default_output_name(path.name, format)).name)
    write_atomically(target, signed)
    return Outcome(str(path), "signed", output=str(target), format=format, level=session.get("level") or wanted)


def default_output_name(filename: str, format: str) -> str:
    stem, ext = os.path.splitext(filename)
    return {"pades": f"{stem}-signe{ext}", "cades": f"{filename}.p7s", "xades": f"{filename}.xades.xml"}[format]


def summary(outcomes: list[Outcome]) -> str:
    """The French summary shown at the end."""
    signed = [o for o in outcomes if o.status == "signed"]
    lines = [f"{len(signed)} document(s) signé(s) sur {len(outcomes)}."]
    for o in outcomes:
        if o.status == "signed":
            lines.append(f"  Signé : {Path(o.document).name} → {Path(o.output).name} ({o.format.upper()} {o.level})")
        else:
            lines.append(f"  Non signé : {Path(o.document).name} — {o.message}")
    return "\n".join(lines)


def as_dicts(outcomes: list[Outcome]) -> list[dict]:
    return [asdict(o) for o in outcomes]
