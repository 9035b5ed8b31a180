"""Settings of the consultations service."""

from __future__ import annotations

from dataclasses import dataclass

from achats.chassis.settings import ServiceSettings

MIB = 1024 * 1024


@dataclass(frozen=True)
class ConsultationsSettings(ServiceSettings):
    # Page size of the list, at most.
    max_page_size: int = 50
    # A deposit is one multipart request: its files and a little more.
    max_body_bytes: int = 110 * MIB
    # Limits of a deposit (« Déposer »): each file, all the files, how many.
    max_file_bytes: int = 50 * MIB
    max_deposit_bytes: int = 100 * MIB
    max_deposit_files: int = 20
    # Where the sealed files go (encrypted; one folder per deposit). Staging is a folder inside it.
    deposit_storage: str = "var/consultations/deposits"
    # Master keys that wrap each consultation's data key: "id:base64(32 bytes)", comma-separated, the first
    # is the one that wraps new data keys (the others still unwrap older ones: rotation).
    master_keys: str = ""
    # Or a file holding that same value (created with a fresh key when missing: the embedded mode only).
    master_key_file: str = ""
    # RFC 3161 timestamp authority that dates every deposit; its certificate (PEM) pins the replies' signer.
    tsa_url: str = ""
    tsa_certificate: str = ""
    tsa_timeout: float = 10.0
    # The signature service (verification of each file's signature); empty: no verification here.
    signature_url: str = ""
    signature_timeout: float = 60.0
    # Practice answers are deleted this many days after their deadline, with their files.
    practice_retention_days: int = 30
    purge_interval: float = 3600.0
    # The platform's address as people open it (the gateway's), and the path of a consultation's page there: the
    # link of the mail « Réponse à une question » (questions to the buyer).
    public_base_url: str = "http://localhost:8080"
    consultation_path: str = "/consultations"

    def consultation_url(self, reference: str) -> str:
        return f"{self.public_base_url.rstrip('/')}{self.consultation_path.rstrip('/')}/{reference}"
