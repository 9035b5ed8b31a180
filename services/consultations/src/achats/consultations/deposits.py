"""« Déposer »: a company's answer to a lot, dated by a RFC 3161 timestamp, sealed until the deadline.

The rules, in order: a company's user only; files checked by their content (type, size, count); the same
``Idempotency-Key`` with the same content gives back the deposit already stored, with other content a 422;
each file's signature judged by the signature service, an invalid one accepted only when the user confirms
it; the deposit time is the timestamp's, and a deposit stamped after the deadline — by one second — is
refused with nothing kept; within a deadline's round the last deposit counts (the others ``replaced``).
No Flask and no HTTP here: the handlers, the CLI and the bench share these functions.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from achats.chassis import clock
from achats.chassis import files as chassis_files
from achats.chassis.bus import publish
from achats.chassis.clock import iso
from achats.chassis.db import UnitOfWork
from achats.chassis.observability import human_size
from achats.chassis.problems import FieldError, Problem
from achats.chassis.security import Principal

from . import catalogue, sealing
from .dce import PARIS, paris
from .models import Consultation, ConsultationKey, Deposit, DepositFile
from .signatures import INVALID, LABELS, SignatureChecker, Verdict
from .tsa import Timestamp, TimestampAuthority, TimestampError, unavailable

log = structlog.get_logger(__name__)

KINDS = ("candidature", "offre")
COMPANY_ROLES = ("supplier", "supplier_admin")
DEPOSIT_RECEIVED = "consultations.deposit.received"
ACCEPTED = frozenset({
    "application/pdf", "application/zip", "application/pkcs7-mime", "application/xml",
    "image/png", "image/jpeg", "image/tiff",
    *chassis_files.OFFICE,
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
})
ACCEPTED_LABEL = ("PDF, documents bureautiques (Word, Excel, PowerPoint, OpenDocument), images (PNG, JPEG, TIFF), "
                  "archives ZIP, signatures électroniques (.p7s, .p7m, XAdES)")


@dataclass
class Upload:
    kind: str  # candidature | offre
    filename: str
    content: bytes


@dataclass
class Depot:
    """What the deposit use cases need besides their unit of work; built once per process (deps.build)."""

    settings: object
    storage: sealing.Storage
    master: sealing.MasterKeys | None
    tsa: TimestampAuthority
    signatures: SignatureChecker

    @classmethod
    def from_settings(cls, settings) -> Depot:
        try:
            master = sealing.MasterKeys.from_settings(settings.master_keys, settings.master_key_file)
        except sealing.SealingError as exc:
            log.warning("consultations.sealing_not_configured", error=str(exc))
            master = None
        return cls(settings=settings, storage=sealing.Storage(settings.deposit_storage), master=master,
                   tsa=TimestampAuthority(settings.tsa_url, certificate=settings.tsa_certificate,
                                          timeout=settings.tsa_timeout),
                   signatures=SignatureChecker(settings.signature_url, timeout=settings.signature_timeout))

    def keys(self) -> sealing.MasterKeys:
        if self.master is None:
            raise Problem(status=503, code="sealing_not_configured",
                          detail="Le dépôt des réponses n'est pas disponible : le chiffrement n'est pas configuré.")
        return self.master


# -- checks ---------------------------------------------------------------------------------------------


def company_user(who: Principal) -> str:
    if not who.company_id or not who.has_role(*COMPANY_ROLES):
        raise Problem(status=403, code="company_required",
                      detail="Le dépôt d'une réponse est réservé aux utilisateurs d'une entreprise.")
    return who.company_id


def media_type(content: bytes) -> str | None:
    """What a file of an answer is, by its bytes: the chassis' kinds, plus zips, CMS signatures and XML."""
    kind = chassis_files.sniff(content)
    if kind in ACCEPTED:
        return kind
    head = content[:64].lstrip()
    if content.startswith(b"PK\x03\x04"):
        try:
            zipfile.ZipFile(io.BytesIO(content)).testzip()
            return "application/zip"
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
    if content[:1] == b"\x30" and b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02" in content[:64]:
        return "application/pkcs7-mime"  # DER CMS SignedData (.p7s, .p7m)
    if content.startswith(b"-----BEGIN PKCS7-----") or content.startswith(b"-----BEGIN CMS-----"):
        return "application/pkcs7-mime"
    if head.startswith(b"<?xml") or head.startswith(b"<ds:Signature") or head.startswith(b"<Signature"):
        return "application/xml"
    return None


def check_uploads(settings, uploads: list[Upload]) -> list[str]:
    """The media type of each upload; a problem naming each bad file otherwise."""
    if not uploads:
        raise Problem(status=422, code="deposit_empty", detail="Ajoutez au moins un fichier à votre réponse.",
                      errors=[FieldError("offre", "Ajoutez au moins un fichier (candidature ou offre).")])
    if len(uploads) > settings.max_deposit_files:
        raise Problem(status=422, code="deposit_too_many_files",
                      detail=f"Une réponse compte au plus {settings.max_deposit_files} fichiers.",
                      errors=[FieldError("offre", f"Au plus {settings.max_deposit_files} fichiers.")])
    total = sum(len(u.content) for u in uploads)
    if total > settings.max_deposit_bytes:
        raise Problem(status=413, code="deposit_too_large",
                      detail=f"Votre réponse dépasse la taille maximale d'un dépôt "
                             f"({human_size(settings.max_deposit_bytes)}).",
                      errors=[FieldError("offre", f"{human_size(total)} au total.")])
    kinds, errors, status = [], [], 422
    for upload in uploads:
        size = len(upload.content)
        if size == 0:
            errors.append(FieldError(upload.kind, f"« {upload.filename} » est vide."))
            kinds.append("")
            continue
        if size > settings.max_file_bytes:
            errors.append(FieldError(upload.kind, f"« {upload.filename} » dépasse la taille maximale d'un fichier "
                                                  f"({human_size(settings.max_file_bytes)})."))
            status = 413
            kinds.append("")
            continue
        kind = media_type(upload.content)
        if kind is None:
            errors.append(FieldError(upload.kind, f"« {upload.filename} » : ce type de fichier n'est pas accepté "
                                                  f"(formats acceptés : {ACCEPTED_LABEL})."))
            status = 415 if status == 422 else status
        kinds.append(kind or "")
    if errors:
        detail = ("Un fichier dépasse la taille maximale." if status == 413 else
                  "Certains fichiers ne sont pas acceptés : votre réponse n'a pas été déposée.")
        raise Problem(status=status, code="deposit_file_rejected", detail=detail, errors=errors)
    names = [(u.kind, u.filename) for u in uploads]
    if len(set(names)) != len(names):
        raise Problem(status=422, code="deposit_duplicate_name",
                      detail="Deux fichiers de la même partie portent le même nom : renommez l'un d'eux.",
                      errors=[FieldError(k, f"« {n} » est en double.") for k, n in sorted(set(names))
                              if names.count((k, n)) > 1])
    return kinds


def _fingerprint(lot: int, uploads: list[Upload], digests: list[str], report_ids: list[str],
                 confirmed: bool) -> str:
    described = {"lot": lot, "files": [[u.kind, u.filename, d] for u, d in zip(uploads, digests, strict=True)],
                 "signature_report_ids": sorted(report_ids), "confirmed": confirmed}
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


def manifest(consultation: Consultation, lot: int, company_id: str, deadline: datetime,
             files: list[tuple[str, str, str, int]]) -> bytes:
    """What the TSA stamps (its SHA-256): which answer, to what, holding which files."""
    return json.dumps({"consultation": str(consultation.id), "reference": consultation.reference, "lot": lot,
                       "company_id": company_id, "deadline": iso(deadline),
                       "files": [{"kind": k, "filename": n, "sha256": d, "size": s} for k, n, d, s in files]},
                      sort_keys=True, ensure_ascii=False).encode()


def _existing(session, company_id: str, key: str | None) -> Deposit | None:
    if not key:
        return None
    return session.execute(select(Deposit).where(Deposit.company_id == company_id,
                                                 Deposit.idempotency_key == key)).scalar_one_or_none()


def _same(found: Deposit, consultation_id: uuid.UUID, fingerprint: str) -> Deposit:
    if found.consultation_id != consultation_id or found.fingerprint != fingerprint:
        raise Problem(status=422, code="idempotency_key_reused",
                      detail="Cette clé d'idempotence a déjà servi pour un autre dépôt.")
    return found


def paris_seconds(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M:%S")


def late(stamped: datetime, deadline: datetime) -> Problem:
    return Problem(status=409, code="deadline_passed",
                   detail=f"Votre dépôt a été horodaté le {paris_seconds(stamped)}, après la date limite de "
                          f"remise des plis du {paris_seconds(deadline)} (heure de Paris) : il n'a pas été "
                          f"enregistré.",
                   extra={"timestamp": iso(stamped), "deadline": iso(deadline)})


def _mark_rounds(session, deposit: Deposit) -> None:
    """The last deposit of a round counts, by timestamp: older current ones are replaced; a newer one
    already there (two deposits raced) makes this one replaced at once."""
    others = session.execute(select(Deposit).where(
        Deposit.consultation_id == deposit.consultation_id, Deposit.lot_number == deposit.lot_number,
        Deposit.company_id == deposit.company_id, Deposit.deadline == deposit.deadline,
        Deposit.status == "current", Deposit.id != deposit.id)).scalars().all()
    newest = deposit
    for other in others:
        if (other.deposited_at, other.received_at) > (newest.deposited_at, newest.received_at):
            newest = other
    for row in [deposit, *others]:
        if row is not newest:
            row.status, row.replaced_at, row.replaced_by = "replaced", deposit.received_at, newest.id


# -- use cases ------------------------------------------------------------------------------------------


def deposit(uow: UnitOfWork, depot: Depot, who: Principal, consultation_id: uuid.UUID, lot_number: int,
            uploads: list[Upload], *, idempotency_key: str | None = None, signature_report_ids: list[str] | None = None,
            confirm_invalid_signatures: bool = False) -> tuple[Deposit, bool]:
    """Store a deposit; ``(deposit, created)`` — ``created`` False when the same request came before. Three
    transactions of ``uow``, none held open while the signature service or the TSA is asked: the checks, the
    consultation's data key (drawn at its first deposit), the deposit itself."""
    company_id = company_user(who)
    report_ids = list(signature_report_ids or [])
    kinds = check_uploads(depot.settings, uploads)
    for upload in uploads:
        if upload.kind not in KINDS:
            raise Problem(status=422, code="deposit_kind_invalid", detail="Chaque fichier est une pièce de la "
                          "candidature ou de l'offre.", errors=[FieldError(upload.kind, "candidature ou offre")])
    digests = [hashlib.sha256(u.content).hexdigest() for u in uploads]
    fingerprint = _fingerprint(lot_number, uploads, digests, report_ids, confirm_invalid_signatures)
    with uow:
        found = _existing(uow.session, company_id, idempotency_key)
        if found is not None:
            return _same(found, consultation_id, fingerprint), False
        consultation = catalogue.get(uow.session, consultation_id)
        if lot_number not in {lot.number for lot in consultation.lots}:
            raise Problem(status=404, code="lot_not_found", detail="Ce lot n'existe pas dans cette consultation.")
        received_at = clock.now()
        deadline = catalogue.deadline(consultation, received_at)
    if received_at > deadline:
        raise late(received_at, deadline)
    master = depot.keys()
    verdicts = _judged(depot, uploads, kinds, digests, report_ids, confirm_invalid_signatures)
    described = manifest(consultation, lot_number, company_id, deadline,
                         [(u.kind, u.filename, d, len(u.content)) for u, d in zip(uploads, digests, strict=True)])
    stamp = _stamped(depot, described, deadline)
    key = sealing.data_key(uow, master, consultation.id)
    deposit_id = uuid.uuid4()
    rows = [DepositFile(id=uuid.uuid4(), position=i, kind=u.kind, filename=chassis_files.safe_name(u.filename),
                        media_type=k, size=len(u.content), sha256=d, signature_status=v.status,
                        signature_report_id=v.report_id, signature_indication=v.indication, signers=v.signers)
            for i, (u, k, d, v) in enumerate(zip(uploads, kinds, digests, verdicts, strict=True))]
    row = Deposit(id=deposit_id, consultation_id=consultation.id, lot_number=lot_number, company_id=company_id,
                  user_id=who.sub, email=who.email, user_name=who.name, idempotency_key=idempotency_key or None,
                  fingerprint=fingerprint, status="current", deadline=deadline, received_at=received_at,
                  deposited_at=stamp.time, manifest_sha256=hashlib.sha256(described).hexdigest(),
                  timestamp_token=stamp.token, timestamp_serial=str(stamp.serial_number), tsa_name=stamp.tsa_name,
                  invalid_signatures_confirmed=any(v.status in INVALID for v in verdicts), files=rows)
    return _stored(uow, depot, consultation, row, key, [u.content for u in uploads])


def _judged(depot: Depot, uploads: list[Upload], kinds: list[str], digests: list[str], report_ids: list[str],
            confirmed: bool) -> list[Verdict]:
    """Each file's signature as the signature service judges it; an invalid one refuses the deposit unless the
    depositor confirmed having seen it."""
    verdicts: list[Verdict] = depot.signatures.judge(
        [(u.filename, k, d, u.content) for u, k, d in zip(uploads, kinds, digests, strict=True)], report_ids)
    invalid = [(u, v) for u, v in zip(uploads, verdicts, strict=True) if v.status in INVALID]
    if invalid and not confirmed:
        raise Problem(status=422, code="signature_invalid_unconfirmed",
                      detail="La signature de certains fichiers n'est pas valide. Vous pouvez tout de même déposer "
                             "votre réponse en confirmant que vous en avez pris connaissance.",
                      errors=[FieldError(u.kind, f"« {u.filename} » : {LABELS[v.status]}.") for u, v in invalid],
                      extra={"files": [{"kind": u.kind, "filename": u.filename, "signature_status": v.status,
                                        "signature_report_id": v.report_id} for u, v in invalid]})
    return verdicts


def _stamped(depot: Depot, described: bytes, deadline: datetime) -> Timestamp:
    """The TSA's timestamp of the manifest: the deposit time, which must not be after the deadline."""
    try:
        stamp = depot.tsa.stamp(hashlib.sha256(described).digest())
    except TimestampError as exc:
        log.warning("consultations.tsa_failed", error=str(exc))
        raise unavailable() from None
    if stamp.time > deadline:
        raise late(stamp.time, deadline)
    return stamp


def _stored(uow: UnitOfWork, depot: Depot, consultation: Consultation, row: Deposit, key: bytes,
            contents: list[bytes]) -> tuple[Deposit, bool]:
    """The files sealed (one at a time) and written to a staging folder, then the row, its round and its event in
    one transaction, the folder published just before the commit; anything failing leaves neither files nor row.
    The same request racing (its Idempotency-Key) finds the deposit the first one stored."""
    staged = depot.storage.staging(row.id)
    final = None
    try:
        for file, content in zip(row.files, contents, strict=True):
            depot.storage.write(staged, file.id, sealing.encrypt(key, file.id, content))
        with uow:
            session = uow.session
            # One deposit at a time per consultation: the round's « last one counts » is decided in order.
            session.execute(select(ConsultationKey).where(ConsultationKey.consultation_id == consultation.id)
                            .with_for_update()).scalar_one()
            found = _existing(session, row.company_id, row.idempotency_key)
            if found is not None:  # the same request, twice at once: the first one won
                depot.storage.discard(staged)
                return _same(found, consultation.id, row.fingerprint), False
            session.add(row)
            session.flush()
            _mark_rounds(session, row)
            on_deposit(session, depot, consultation, row)
            final = depot.storage.publish(staged, row.id)
            try:
                uow.commit()
            except IntegrityError:
                uow.rollback()
                depot.storage.remove(row.id)
                found = _existing(session, row.company_id, row.idempotency_key)
                if found is None:
                    raise
                return _same(found, consultation.id, row.fingerprint), False
            return row, True
    except BaseException:
        depot.storage.discard(staged)
        if final is not None:
            depot.storage.remove(row.id)
        raise


def on_deposit(session, depot: Depot, consultation: Consultation, row: Deposit) -> None:
    """What a stored deposit announces (in its transaction, through the outbox)."""
    publish(session, DEPOSIT_RECEIVED, event_data(depot, consultation, row), source=catalogue.SOURCE,
            subject=str(row.id))


def event_data(depot: Depot, consultation: Consultation, row: Deposit) -> dict:
    base = depot.settings.public_base_url.rstrip("/")
    lot = next(lot for lot in consultation.lots if lot.number == row.lot_number)
    return {"deposit_id": str(row.id), "consultation_id": str(consultation.id), "reference": consultation.reference,
            "title": consultation.title, "buyer": consultation.buyer, "lot_number": row.lot_number,
            "lot_title": lot.title, "company_id": row.company_id, "user_id": row.user_id,
            "depositor": {"email": row.email or "", "name": row.user_name or ""},
            "deposited_at": iso(row.deposited_at), "deadline": iso(row.deadline),
            "files": [{"kind": f.kind, "filename": f.filename, "size": f.size, "sha256": f.sha256}
                      for f in row.files],
            "receipt_url": f"{base}/api/consultations/deposits/{row.id}/receipt.pdf",
            "answers_url": f"{base}/consultations/mes-reponses"}


def visible(session, who: Principal, deposit_id: uuid.UUID) -> Deposit:
    """A deposit the caller may see: its company's users; support agents and administrators (metadata)."""
    row = session.get(Deposit, deposit_id)
    staff = who.has_role("support_agent", "platform_admin")
    if row is None or not (staff or (who.company_id and row.company_id == who.company_id)):
        raise Problem(status=404, code="deposit_not_found", detail="Ce dépôt n'existe pas.")
    return row


def sealed(row: Deposit, now: datetime | None = None) -> bool:
    return (now or clock.now()) <= row.deadline


def open_file(uow: UnitOfWork, depot: Depot, who: Principal, deposit_id: uuid.UUID, file_id: uuid.UUID,
              now: datetime | None = None) -> tuple[DepositFile, bytes]:
    """A file's content, in clear: never before the deadline, for nobody (the depositor, agents and
    administrators alike); after it, the depositing company's users and platform administrators."""
    with uow:
        session = uow.session
        row = visible(session, who, deposit_id)
        file = next((f for f in row.files if f.id == file_id), None)
        if file is None:
            raise Problem(status=404, code="deposit_file_not_found", detail="Ce fichier n'existe pas dans ce dépôt.")
        if sealed(row, now):
            raise Problem(status=403, code="answer_sealed",
                          detail=f"Ce pli est scellé jusqu'à la date limite du {paris(row.deadline)} (heure de "
                                 f"Paris) : personne ne peut l'ouvrir avant, ni l'entreprise, ni les agents, ni les "
                                 f"administrateurs de la plateforme.")
        if not (who.has_role("platform_admin") or (who.company_id and row.company_id == who.company_id)):
            raise Problem(status=403, code="forbidden", detail="Vous n'avez pas le droit d'ouvrir ce pli.")
        key_row = session.get(ConsultationKey, row.consultation_id)
        master = depot.keys()
        key = sealing.unwrap(master, row.consultation_id, key_row.master_key_id, key_row.wrapped_key)
        return file, sealing.decrypt(key, file.id, depot.storage.read(row.id, file.id))


def company_deposits(session, who: Principal, consultation_id: uuid.UUID | None = None,
                     status: str | None = None) -> list[Deposit]:
    """« Mes réponses »: the caller's company's deposits, latest first."""
    company_id = company_user(who)
    query = select(Deposit).where(Deposit.company_id == company_id)
    if consultation_id is not None:
        query = query.where(Deposit.consultation_id == consultation_id)
    if status:
        query = query.where(Deposit.status == status)
    return list(session.execute(query.order_by(Deposit.deposited_at.desc(), Deposit.received_at.desc(),
                                               Deposit.id)).scalars())


# -- retention -----------------------------------------------------------------------------------------


ORPHAN_AGE = 3600.0


def purge(uow: UnitOfWork, depot: Depot, now: datetime | None = None) -> dict:
    """Delete the practice answers whose deadline passed ``PRACTICE_RETENTION_DAYS`` ago, rows and files;
    and the deposit folders left without a row (a crash between the rename and the commit) or staged
    for more than an hour."""
    now = now or clock.now()
    limit = now - timedelta(days=depot.settings.practice_retention_days)
    with uow:
        ids = list(uow.session.execute(select(Deposit.id).join(Consultation, Consultation.id == Deposit.consultation_id)
                                       .where(Consultation.practice.is_(True), Deposit.deadline < limit)).scalars())
        if ids:
            uow.session.execute(delete(DepositFile).where(DepositFile.deposit_id.in_(ids)))
            uow.session.execute(delete(Deposit).where(Deposit.id.in_(ids)))
        uow.commit()
    for deposit_id in ids:
        depot.storage.remove(deposit_id)
    orphans = 0
    with uow:
        session = uow.session
        for folder, age in depot.storage.folders():
            if age < ORPHAN_AGE:
                continue
            try:
                known = session.get(Deposit, uuid.UUID(folder.name)) is not None
            except ValueError:
                known = False
            if folder.parent == depot.storage.staging_root or not known:
                depot.storage.discard(folder)
                orphans += 1
    if ids or orphans:
        log.info("consultations.purged", deposits=len(ids), orphan_folders=orphans)
    return {"deposits": len(ids), "orphan_folders": orphans}
