"""EU trusted lists: fetched from URLs or files, signatures verified, cached on disk, refreshed on schedule.

The list of the lists (LOTL) is verified with the configured LOTL signer certificates; each national
list with the certificates the LOTL names for it. A list whose signature does not verify, or whose
``NextUpdate`` has passed, is refused: none of its services is trusted. When a download fails or is
refused, the last good copy from the disk cache is used while it has not expired.
"""

from __future__ import annotations

import base64
import copyreg
import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import requests
import structlog
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from lxml import etree
from pyhanko.sign.validation.qualified import eutl_parse
from pyhanko.sign.validation.qualified.tsp import TSPRegistry

from achats.chassis import clock
from achats.chassis.clock import iso

log = structlog.get_logger(__name__)

TSL = "http://uri.etsi.org/02231/v2#"
_NS = {"t": TSL}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
MAX_LIST_BYTES = 32 * 1024 * 1024
SERVICE_TYPES = {
    "http://uri.etsi.org/TrstSvc/Svctype/CA/QC": "CA/QC",
    "http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST": "TSA/QTST",
}


def _reduce_certificate(cert: asn1_x509.Certificate):
    return asn1_x509.Certificate.load, (cert.dump(),)


# asn1crypto values do not survive pickling into a fresh process (their class tables are built by
# the first normal construction); certificates travel to the sandbox's workers as DER instead.
copyreg.pickle(asn1_x509.Certificate, _reduce_certificate)


class TrustListError(Exception):
    """A list that cannot be used; the message is French (shown by GET /trust-lists)."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ServiceEntry:
    territory: str
    provider: str
    name: str
    type: str
    status: str
    status_since: str | None


@dataclass(frozen=True)
class ListState:
    kind: str  # lotl | national
    territory: str
    location: str
    status: str  # loaded | expired | invalid_signature | unavailable | invalid
    source: str | None = None  # download | cache | file
    sequence_number: int | None = None
    issued_at: datetime | None = None
    next_update: datetime | None = None
    fetched_at: datetime | None = None
    sha256: str | None = None
    message: str | None = None
    providers: tuple[tuple[str, tuple[ServiceEntry, ...]], ...] = ()

    @property
    def in_use(self) -> bool:
        return self.status == "loaded"


@dataclass(frozen=True)
class TrustMaterial:
    """What a validation needs, picklable for the worker processes."""

    id: str
    registry: TSPRegistry
    anchors: tuple[asn1_x509.Certificate, ...]
    # sha256 of a service's certificate -> where it is listed (country, provider, service).
    services_by_cert: dict[str, tuple[ServiceEntry, ...]]


@dataclass(frozen=True)
class TrustSnapshot:
    material: TrustMaterial
    lists: tuple[ListState, ...] = ()
    loaded_at: datetime | None = None
    next_refresh_at: datetime | None = None
    attempted: bool = False

    @property
    def status(self) -> str:
        if not self.attempted:
            return "loading"
        if not self.lists:
            return "ok" if self.material.anchors else "unavailable"
        used = [s for s in self.lists if s.in_use]
        if not used and not self.material.anchors:
            return "unavailable"
        return "ok" if len(used) == len(self.lists) else "degraded"

    @property
    def usable(self) -> bool:
        return any(s.in_use and s.kind == "national" for s in self.lists) or bool(self.material.anchors)


def load_certificates(paths: tuple[str, ...] | list[str]) -> list[asn1_x509.Certificate]:
    """Certificates from PEM or DER files (a PEM file may hold several)."""
    out = []
    for path in paths:
        data = Path(path).read_bytes()
        if pem.detect(data):
            out.extend(asn1_x509.Certificate.load(der) for _type, _headers, der in pem.unarmor(data, multiple=True))
        else:
            out.append(asn1_x509.Certificate.load(data))
    return out


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _localised(parent: etree._Element | None, path: str) -> str:
    if parent is None:
        return ""
    names = parent.findall(path, _NS)
    by_lang = {n.get("{http://www.w3.org/XML/1998/namespace}lang"): (n.text or "").strip() for n in names}
    return by_lang.get("fr") or by_lang.get("en") or next(iter(by_lang.values()), "")


@dataclass(frozen=True)
class _ListFacts:
    sequence_number: int | None
    issued_at: datetime | None
    next_update: datetime | None
    territory: str
    providers: tuple[tuple[str, tuple[ServiceEntry, ...]], ...]
    service_certs: dict[str, list[ServiceEntry]]


def _facts(signed_xml: str) -> _ListFacts:
    """Dates, territory, providers and services of a list, read from its signed content only."""
    root = etree.fromstring(signed_xml.encode("utf-8"), _PARSER)
    info = root.find("t:SchemeInformation", _NS)
    sequence = info.findtext("t:TSLSequenceNumber", namespaces=_NS) if info is not None else None
    territory = (info.findtext("t:SchemeTerritory", namespaces=_NS) or "").strip() if info is not None else ""
    providers = []
    service_certs: dict[str, list[ServiceEntry]] = {}
    for provider in root.findall("t:TrustServiceProviderList/t:TrustServiceProvider", _NS):
        provider_name = _localised(provider.find("t:TSPInformation/t:TSPName", _NS), "t:Name")
        services = []
        for service in provider.findall("t:TSPServices/t:TSPService/t:ServiceInformation", _NS):
            type_uri = (service.findtext("t:ServiceTypeIdentifier", namespaces=_NS) or "").strip()
            entry = ServiceEntry(
                territory=territory, provider=provider_name,
                name=_localised(service.find("t:ServiceName", _NS), "t:Name"),
                type=SERVICE_TYPES.get(type_uri, type_uri.rsplit("/Svctype/", 1)[-1]),
                status=(service.findtext("t:ServiceStatus", namespaces=_NS) or "").strip().rsplit("/", 1)[-1],
                status_since=(service.findtext("t:StatusStartingTime", namespaces=_NS) or "").strip() or None)
            services.append(entry)
            for cert in service.findall("t:ServiceDigitalIdentity/t:DigitalId/t:X509Certificate", _NS):
                try:
                    der = base64.b64decode("".join((cert.text or "").split()))
                except ValueError:
                    continue
                service_certs.setdefault(hashlib.sha256(der).hexdigest(), []).append(entry)
        providers.append((provider_name, tuple(services)))
    return _ListFacts(
        sequence_number=int(sequence) if sequence and sequence.strip().isdigit() else None,
        issued_at=_parse_time(info.findtext("t:ListIssueDateTime", namespaces=_NS) if info is not None else None),
        next_update=_parse_time(info.findtext("t:NextUpdate/t:dateTime", namespaces=_NS)
                                if info is not None else None),
        territory=territory, providers=tuple(providers), service_certs=service_certs)


class ListCache:
    """Raw copies of the lists on disk, with when they were fetched (``index.json``)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._lock = threading.Lock()

    def _index(self) -> dict:
        try:
            return json.loads((self.folder / "index.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def get(self, location: str) -> tuple[bytes, datetime] | None:
        entry = self._index().get(location)
        if not entry:
            return None
        try:
            return (self.folder / entry["file"]).read_bytes(), datetime.fromisoformat(entry["fetched_at"])
        except (OSError, KeyError, ValueError):
            return None

    def put(self, location: str, content: bytes, fetched_at: datetime) -> None:
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = hashlib.sha256(location.encode()).hexdigest() + ".xml"
            tmp = self.folder / f".{name}.{uuid.uuid4().hex}"
            tmp.write_bytes(content)
            tmp.replace(self.folder / name)
            index = self._index()
            index[location] = {"file": name, "fetched_at": iso(fetched_at)}
            tmp_index = self.folder / f".index.{uuid.uuid4().hex}"
            tmp_index.write_text(json.dumps(index, indent=1), encoding="utf-8")
            tmp_index.replace(self.folder / "index.json")


@dataclass
class _Candidate:
    content: bytes
    source: str
    fetched_at: datetime


class TrustListStore:
    """Loads the lists into a :class:`TrustSnapshot`, refreshes it in a thread, swaps it atomically."""

    def __init__(self, *, lotl_location: str, lotl_signers: list[asn1_x509.Certificate],
                 anchors: list[asn1_x509.Certificate], cache_dir: str | Path, refresh_interval: float,
                 fetch_timeout: float, territories: tuple[str, ...] = (), overrides: dict[str, str] | None = None):
        self.lotl_location = lotl_location
        self.lotl_signers = lotl_signers or eutl_parse.latest_known_lotl_tlso_certs()
        self.cache = ListCache(cache_dir)
        self.refresh_interval = refresh_interval
        self.fetch_timeout = fetch_timeout
        self.territories = {t.upper() for t in territories}
        self.overrides = overrides or {}
        self._anchors = tuple(anchors)
        self._snapshot = TrustSnapshot(material=self._material(TSPRegistry(), {}))
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._failures = 0
        self._force = False

    @classmethod
    def from_settings(cls, settings) -> TrustListStore:
        return cls(lotl_location=settings.lotl_url, lotl_signers=load_certificates(settings.lotl_signer_certs),
                   anchors=load_certificates(settings.extra_trust_anchors), cache_dir=settings.cache_dir,
                   refresh_interval=settings.trust_lists_refresh_interval, fetch_timeout=settings.fetch_timeout,
                   territories=settings.trusted_territories, overrides=settings.overrides())

    # -- access --------------------------------------------------------------------------------

    @property
    def snapshot(self) -> TrustSnapshot:
        return self._snapshot

    def ensure_started(self) -> None:
        """Start the refresh thread on first use (never at import, never before a process forks)."""
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="signature-trust-lists", daemon=True)
                self._thread.start()

    def wait_ready(self, timeout: float) -> TrustSnapshot:
        self.ensure_started()
        self._ready.wait(timeout)
        return self._snapshot

    def refresh_soon(self) -> None:
        self.ensure_started()
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()

    def _run(self) -> None:
        # Lists already loaded (by an explicit refresh) wait for their due time; otherwise load now.
        if self._snapshot.attempted:
            self._wake.wait(self._delay_until_next())
            self._wake.clear()
        while not self._stop.is_set():
            try:
                self.refresh()
            except Exception:  # the loop must survive anything a list throws at it
                log.exception("trust_lists.refresh_failed")
                self._ready.set()
            self._wake.wait(self._delay_until_next())
            self._wake.clear()

    def _delay_until_next(self) -> float:
        snapshot = self._snapshot
        if snapshot.status != "ok":
            # Something failed (a server still starting, a network outage): try again soon, then less often.
            self._failures += 1
            return min(self.refresh_interval, 5.0 * 2 ** min(self._failures - 1, 6))
        self._failures = 0
        next_at = snapshot.next_refresh_at
        if next_at is None:
            return self.refresh_interval
        return max(1.0, (next_at - clock.now()).total_seconds())

    def usable_snapshot(self, timeout: float) -> TrustSnapshot:
        """The current lists; when none is usable, one synchronous retry before giving up."""
        snapshot = self.wait_ready(timeout)
        if not snapshot.usable and snapshot.loaded_at is not None \
                and (clock.now() - snapshot.loaded_at).total_seconds() > 5:
            snapshot = self.refresh()
        return snapshot

    # -- loading -------------------------------------------------------------------------------

    def refresh(self, force: bool = False) -> TrustSnapshot:
        """Load every list now; ``force`` downloads even when the cached copies are fresh."""
        with self._refresh_lock:
            self._force = force
            started = time.monotonic()
            registry = TSPRegistry()
            services: dict[str, list[ServiceEntry]] = {}
            states: list[ListState] = []
            lotl_state, references = self._load_lotl()
            states.append(lotl_state)
            for reference in references:
                territory = reference.territory.upper()
                if eutl_parse.LOTL_RULE in reference.scheme_rules:
                    continue
                if self.territories and territory not in self.territories:
                    continue
                location = self.overrides.get(territory, reference.location_uri)
                state = self._load_national(territory, location, reference.tlso_certs, registry, services)
                states.append(state)
            now = clock.now()
            next_updates = [s.next_update for s in states if s.in_use and s.next_update and s.next_update > now]
            next_refresh = min([*next_updates, datetime.fromtimestamp(now.timestamp() + self.refresh_interval, UTC)])
            snapshot = TrustSnapshot(material=self._material(registry, services), lists=tuple(states),
                                     loaded_at=now, next_refresh_at=next_refresh, attempted=True)
            self._snapshot = snapshot
            self._ready.set()
            log.info("trust_lists.loaded", status=snapshot.status, lists=len(states),
                     in_use=sum(s.in_use for s in states), ms=round((time.monotonic() - started) * 1000))
            return snapshot

    def _material(self, registry: TSPRegistry, services: dict[str, list[ServiceEntry]]) -> TrustMaterial:
        return TrustMaterial(id=uuid.uuid4().hex, registry=registry, anchors=self._anchors,
                             services_by_cert={k: tuple(v) for k, v in services.items()})

    def _load_lotl(self) -> tuple[ListState, list]:
        base = ListState(kind="lotl", territory="EU", location=self.lotl_location, status="unavailable")
        try:
            candidate, signed, facts, warning = self._accept(self.lotl_location, self.lotl_signers)
        except TrustListError as exc:
            return replace(base, status=exc.status, message=exc.message), []
        parsed = eutl_parse.parse_lotl_unsafe(signed)
        return self._state(base, candidate, facts, warning, with_providers=False), parsed.references

    def _load_national(self, territory: str, location: str, signers: list, registry: TSPRegistry,
                       services: dict[str, list[ServiceEntry]]) -> ListState:
        base = ListState(kind="national", territory=territory, location=location, status="unavailable")
        if not signers:
            return replace(base, status="invalid", message="La liste des listes ne donne aucun certificat de "
                                                           "signature pour cette liste.")
        try:
            candidate, signed, facts, warning = self._accept(location, signers)
            _registry, errors = eutl_parse.trust_list_to_registry_unsafe(signed, registry)
        except TrustListError as exc:
            return replace(base, status=exc.status, message=exc.message)
        except Exception as exc:  # a list pyHanko cannot read is refused, never a crash
            log.warning("trust_lists.unreadable", territory=territory, error=repr(exc))
            return replace(base, status="invalid", message="Liste illisible : elle n'est pas utilisée.")
        for errored in errors:
            log.info("trust_lists.service_skipped", territory=territory, error=str(errored)[:300])
        for digest, entries in facts.service_certs.items():
            services.setdefault(digest, []).extend(entries)
        return self._state(base, candidate, facts, warning, with_providers=True)

    @staticmethod
    def _state(base: ListState, candidate: _Candidate, facts: _ListFacts, warning: str | None,
               with_providers: bool) -> ListState:
        return replace(base, status="loaded", source=candidate.source, sequence_number=facts.sequence_number,
                       issued_at=facts.issued_at, next_update=facts.next_update, fetched_at=candidate.fetched_at,
                       sha256=hashlib.sha256(candidate.content).hexdigest(), message=warning,
                       territory=facts.territory or base.territory,
                       providers=facts.providers if with_providers else ())

    def _accept(self, location: str, signers: list) -> tuple[_Candidate, str, _ListFacts, str | None]:
        """The first candidate copy (fresh download, then cache) that verifies and has not expired."""
        problems: list[TrustListError] = []
        for candidate in self._candidates(location, problems):
            try:
                signed, facts = self._verify(candidate.content, signers)
            except TrustListError as exc:
                problems.append(exc)
                continue
            if candidate.source == "download":
                self.cache.put(location, candidate.content, candidate.fetched_at)
            warning = None
            if problems:
                warning = (f"{problems[0].message} Copie précédente utilisée "
                           f"(téléchargée le {candidate.fetched_at:%d/%m/%Y %H:%M} UTC).")
            return candidate, signed, facts, warning
        if problems:
            raise problems[0]
        raise TrustListError("unavailable", "Liste indisponible.")

    def _candidates(self, location: str, problems: list[TrustListError]):
        if "://" not in location:
            try:
                yield _Candidate(Path(location).read_bytes()[:MAX_LIST_BYTES + 1], "file", clock.now())
            except OSError:
                problems.append(TrustListError("unavailable", "Fichier de la liste introuvable."))
            return
        cached = self.cache.get(location)
        fresh = not self._force and cached is not None \
            and (clock.now() - cached[1]).total_seconds() < self.refresh_interval
        if fresh:
            yield _Candidate(cached[0], "cache", cached[1])
        try:
            yield _Candidate(self._download(location), "download", clock.now())
        except TrustListError as exc:
            problems.append(exc)
        if cached is not None and not fresh:
            yield _Candidate(cached[0], "cache", cached[1])

    def _download(self, location: str) -> bytes:
        try:
            with requests.get(location, timeout=self.fetch_timeout, stream=True,
                              headers={"Accept": f"{eutl_parse.ETSI_TSL_MIME_TYPE}, application/xml, text/xml"}
                              ) as response:
                if response.status_code != 200:
                    raise TrustListError("unavailable", f"Téléchargement impossible (HTTP {response.status_code}).")
                content = response.raw.read(MAX_LIST_BYTES + 1, decode_content=True)
        except requests.RequestException:
            raise TrustListError("unavailable", "Téléchargement impossible (serveur injoignable).") from None
        if len(content) > MAX_LIST_BYTES:
            raise TrustListError("invalid", "Liste trop volumineuse.")
        return content

    @staticmethod
    def _verify(content: bytes, signers: list) -> tuple[str, _ListFacts]:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raise TrustListError("invalid", "Liste illisible (encodage).") from None
        if len(content) > MAX_LIST_BYTES or "<!DOCTYPE" in text[:4096]:
            raise TrustListError("invalid", "Liste refusée (format non autorisé).")
        try:
            # The signed content only (what the XAdES signature covers): see-what-is-signed.
            signed = eutl_parse._validate_and_extract_tl_data_multiple_certs(text, signers, validation_time=None)
        except Exception:  # every way a signature can fail means the same: not trusted
            raise TrustListError("invalid_signature", "Signature de la liste invalide : liste refusée.") from None
        try:
            facts = _facts(signed)
        except (etree.XMLSyntaxError, ValueError):
            raise TrustListError("invalid", "Liste illisible.") from None
        if facts.next_update is None:
            raise TrustListError("invalid", "Liste sans date de prochaine mise à jour : liste refusée.")
        if facts.next_update < clock.now():
            raise TrustListError("expired", f"Liste expirée depuis le {facts.next_update:%d/%m/%Y} : liste refusée.")
        return signed, facts
