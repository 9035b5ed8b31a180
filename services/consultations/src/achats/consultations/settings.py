"""Settings of the consultations service."""

from __future__ import annotations

from dataclasses import dataclass

from achats.chassis.settings import ServiceSettings


@dataclass(frozen=True)
class ConsultationsSettings(ServiceSettings):
    # Page size of the list, at most.
    max_page_size: int = 50
    # The platform's address as people open it (the gateway's), and the path of a consultation's page there: the
    # link of the mail « Réponse à une question » (questions to the buyer).
    public_base_url: str = "http://localhost:8080"
    consultation_path: str = "/consultations"

    def consultation_url(self, reference: str) -> str:
        return f"{self.public_base_url.rstrip('/')}{self.consultation_path.rstrip('/')}/{reference}"
