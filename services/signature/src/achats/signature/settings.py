"""Settings of the signature service (prefix ``SIGNATURE_`` or none)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from achats.chassis.settings import ServiceSettings, SettingsError

MIB = 1024 * 1024
# What a multipart body adds around the files (boundaries, part headers, the other fields).
MULTIPART_MARGIN = 1 * MIB
EU_LOTL_URL = "https://ec.europa.eu/tools/lotl/eu-lotl.xml"


@dataclass(frozen=True)
class SignatureSettings(ServiceSettings):
    # The document (50 MiB) and its detached signature (5 MiB) in one multipart body, plus margin.
    max_body_bytes: int = 56 * MIB
    max_file_bytes: int = 50 * MIB
    max_signature_file_bytes: int = 5 * MIB
    max_signatures_per_document: int = 50
    # Time budget of one validation or signing (seconds): beyond it the worker process is killed.
    validation_timeout: float = 30.0
    # Worker processes doing validations and signings (0: one per CPU).
    validation_workers: int = 0
    # Seconds a request may wait for a free worker before 503.
    validation_queue_timeout: float = 10.0
    # hard: a signature whose revocation status cannot be obtained is INDETERMINATE (TRY_LATER);
    # soft: it passes when the certificate points to no reachable OCSP/CRL service.
    revocation_mode: str = "hard"
    # Timeout of each OCSP, CRL, certificate, timestamp and trusted-list request (seconds).
    fetch_timeout: float = 5.0
    # How long a worker reuses an OCSP response or a CRL (never beyond its nextUpdate); 0: never.
    revocation_cache_seconds: float = 60.0
    # The list of the lists: an URL or a file path.
    lotl_url: str = EU_LOTL_URL
    # PEM files of the certificates allowed to sign the LOTL; empty: those of the EU (bundled by pyHanko).
    lotl_signer_certs: tuple[str, ...] = ()
    # Territories whose national lists are loaded (ISO codes); empty: all of them.
    trusted_territories: tuple[str, ...] = ()
    # Where a national list is read from instead of the LOTL's location: "FR=/path/tl-fr.xml,DE=https://...".
    trust_list_overrides: tuple[str, ...] = ()
    trust_lists_cache_dir: str = ""
    trust_lists_refresh_interval: float = 21_600.0
    # Seconds a first request waits for the initial loading of the lists before 503.
    trust_lists_wait: float = 20.0
    # PEM files of CAs trusted as equivalent to eIDAS qualified ones (arrêté du 22 mars 2019, art. 2).
    extra_trust_anchors: tuple[str, ...] = ()
    # RFC 3161 timestamp authority for B-T and above; empty: only B-B can be produced.
    tsa_url: str = ""
    # How long a verification report stays downloadable (seconds); the document itself is never kept.
    report_retention: float = 86_400.0
    # How long a two-step signing waits for the signature value (seconds).
    signing_session_ttl: float = 900.0
    purge_interval: float = 300.0

    def __post_init__(self) -> None:
        needed = self.max_file_bytes + self.max_signature_file_bytes + MULTIPART_MARGIN
        if self.max_body_bytes < needed:
            raise SettingsError(
                f"SIGNATURE_MAX_BODY_BYTES ({self.max_body_bytes}) must be at least MAX_FILE_BYTES + "
                f"MAX_SIGNATURE_FILE_BYTES + 1 MiB of multipart overhead ({needed})")
        if self.revocation_mode not in ("hard", "soft"):
            raise SettingsError("SIGNATURE_REVOCATION_MODE must be 'hard' or 'soft'")
        for entry in self.trust_list_overrides:
            if "=" not in entry:
                raise SettingsError(f"SIGNATURE_TRUST_LIST_OVERRIDES: expected TERRITORY=location, got {entry!r}")

    @property
    def workers(self) -> int:
        return self.validation_workers or max(1, os.cpu_count() or 1)

    @property
    def cache_dir(self) -> str:
        return self.trust_lists_cache_dir or os.path.join(tempfile.gettempdir(), "achats-signature-trust-lists")

    def overrides(self) -> dict[str, str]:
        return {key.strip().upper(): value.strip()
                for key, _, value in (entry.partition("=") for entry in self.trust_list_overrides)}
