"""The test PKI and its three stand-ins over real HTTP, for tests and benchmarks (free ports)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from achats.chassis.testing.server import free_port, serving

from . import generate, standins
from .pki import TestPki


@dataclass
class RunningPki:
    pki: TestPki
    pki_url: str
    tsa_url: str
    tl_url: str

    @property
    def lotl_url(self) -> str:
        return f"{self.tl_url}/lotl.xml"

    def set_list_mode(self, name: str, mode: str) -> None:
        """``name``: lotl | fr; ``mode``: normal | expired | tampered | missing."""
        requests.put(f"{self.tl_url}/_standin/lists/{name}", json={"mode": mode}, timeout=5).raise_for_status()

    def set_revocation_mode(self, mode: str) -> None:
        """``unavailable``: OCSP and CRL answer 503; ``normal``: they answer again."""
        requests.put(f"{self.pki_url}/_standin/mode", json={"mode": mode}, timeout=5).raise_for_status()

    def reset_lists(self) -> None:
        requests.post(f"{self.tl_url}/_standin/reset", timeout=5).raise_for_status()

    def calls(self, which: str = "pki") -> dict:
        base = {"pki": self.pki_url, "tsa": self.tsa_url.rsplit("/", 1)[0], "tl": self.tl_url}[which]
        return requests.get(f"{base}/_standin/calls", timeout=5).json()


def generate_for_ports(folder: Path, pki_port: int, tsa_port: int, tl_port: int) -> TestPki:
    generate.generate(folder, pki_url=f"http://127.0.0.1:{pki_port}", tsa_url=f"http://127.0.0.1:{tsa_port}/tsa",
                      tl_url=f"http://127.0.0.1:{tl_port}")
    return TestPki(folder)


@contextlib.contextmanager
def running_pki(folder: Path) -> Iterator[RunningPki]:
    """Generate a PKI whose URLs point to three free ports, and serve it there."""
    ports = free_port(), free_port(), free_port()
    pki = generate_for_ports(folder, *ports)
    with serving(standins.pki_app(folder), ports[0]) as pki_url, \
            serving(standins.tsa_app(folder), ports[1]) as tsa_base, \
            serving(standins.trust_lists_app(folder), ports[2]) as tl_url:
        yield RunningPki(pki=pki, pki_url=pki_url, tsa_url=f"{tsa_base}/tsa", tl_url=tl_url)
