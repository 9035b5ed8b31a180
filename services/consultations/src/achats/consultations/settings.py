"""Settings of the consultations service."""

from __future__ import annotations

from dataclasses import dataclass

from achats.chassis.settings import ServiceSettings


@dataclass(frozen=True)
class ConsultationsSettings(ServiceSettings):
    # Page size of the list, at most.
    max_page_size: int = 50
