"""Revocation data fetched over HTTP, kept a short while per worker process, and a faster PDF hex reader.

An OCSP response or a CRL says until when it holds (``nextUpdate``); reusing it for up to
REVOCATION_CACHE_SECONDS (never beyond its ``nextUpdate``) saves a round trip per signature without
changing what the check means — a revocation becomes visible at most that long after the CA
publishes it. 0 disables the cache. Failures are never cached.
"""

from __future__ import annotations

import binascii
import os
import threading
import time
from collections.abc import Iterable
from datetime import datetime

from asn1crypto import crl, ocsp
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfStreamError
from pyhanko_certvalidator.authority import Authority
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.fetchers.api import CRLFetcher, FetcherBackend, Fetchers, OCSPFetcher
from pyhanko_certvalidator.util import issuer_serial

from achats.chassis import clock


class _TTLCache:
    def __init__(self, max_entries: int = 4096):
        self._entries: dict[object, tuple[float, object]] = {}
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key, value, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # bounded memory; a cold cache only costs round trips
            self._entries[key] = (time.monotonic() + seconds, value)


def _seconds_left(next_update: datetime | None, ttl: float) -> float:
    if next_update is None:
        return ttl
    return min(ttl, (next_update - clock.now()).total_seconds())


def _ocsp_next_update(response: ocsp.OCSPResponse) -> datetime | None:
    try:
        basic = response["response_bytes"]["response"].parsed
        updates = [single["next_update"].native for single in basic["tbs_response_data"]["responses"]]
    except (KeyError, TypeError, ValueError, AttributeError):
        return clock.now()  # unreadable: do not keep it
    known = [u for u in updates if u is not None]
    return min(known) if known else None


class _CachedOCSP(OCSPFetcher):
    def __init__(self, inner: OCSPFetcher, cache: _TTLCache, ttl: float):
        self.inner, self.cache, self.ttl = inner, cache, ttl
        self._seen: list[tuple[object, ocsp.OCSPResponse]] = []

    async def fetch(self, cert, authority: Authority) -> ocsp.OCSPResponse:
        key = (issuer_serial(cert), authority.hashable)
        response = self.cache.get(key)
        if response is None:
            response = await self.inner.fetch(cert, authority)
            self.cache.put(key, response, _seconds_left(_ocsp_next_update(response), self.ttl))
        self._seen.append((issuer_serial(cert), response))
        return response

    def fetched_responses(self) -> Iterable[ocsp.OCSPResponse]:
        return [response for _key, response in self._seen]

    def fetched_responses_for_cert(self, cert) -> Iterable[ocsp.OCSPResponse]:
        key = issuer_serial(cert)
        return [response for seen, response in self._seen if seen == key]


class _CachedCRL(CRLFetcher):
    def __init__(self, inner: CRLFetcher, cache: _TTLCache, ttl: float):
        self.inner, self.cache, self.ttl = inner, cache, ttl
        self._seen: list[tuple[object, list[crl.CertificateList]]] = []

    async def fetch(self, cert, *, use_deltas=None) -> Iterable[crl.CertificateList]:
        key = (issuer_serial(cert), use_deltas)
        crls = self.cache.get(key)
        if crls is None:
            crls = list(await self.inner.fetch(cert, use_deltas=use_deltas))
            updates = [c["tbs_cert_list"]["next_update"].native for c in crls]
            known = [u for u in updates if u is not None]
            self.cache.put(key, crls, _seconds_left(min(known) if known else None, self.ttl))
        self._seen.append((issuer_serial(cert), crls))
        return crls

    def fetched_crls(self) -> Iterable[crl.CertificateList]:
        return [c for _key, crls in self._seen for c in crls]

    def fetched_crls_for_cert(self, cert) -> Iterable[crl.CertificateList]:
        key = issuer_serial(cert)
        found = [c for seen, crls in self._seen if seen == key for c in crls]
        if not found:
            raise KeyError(key)
        return found


class CachingFetcherBackend(FetcherBackend):
    """pyHanko's aiohttp fetchers (one connection pool per worker process) behind a short-lived cache."""

    def __init__(self, fetch_timeout: float, ttl: float):
        self.inner = AIOHttpFetcherBackend(per_request_timeout=fetch_timeout)
        self.ttl = ttl
        self._ocsp = _TTLCache()
        self._crl = _TTLCache()

    def get_fetchers(self) -> Fetchers:
        fetchers = self.inner.get_fetchers()
        if self.ttl <= 0:
            return fetchers
        return Fetchers(ocsp_fetcher=_CachedOCSP(fetchers.ocsp_fetcher, self._ocsp, self.ttl),
                        crl_fetcher=_CachedCRL(fetchers.crl_fetcher, self._crl, self.ttl),
                        cert_fetcher=fetchers.cert_fetcher)

    async def close(self):
        await self.inner.close()


# -- PDF hex strings ---------------------------------------------------------------------------------

PYHANKO_HEX_READER = generic.read_hex_string_from_stream
_WHITESPACE = b" \n\r\t\x0c\x00"
_HEX = b"0123456789abcdefABCDEF"


def read_hex_string_from_stream(stream):
    """Same result as pyHanko's reader of ``<...>`` strings, without a Python call per digit.

    A signature's /Contents is a hex string of tens of kilobytes: read token by token it costs
    about 25 ms per signature, which is most of a verification's parsing time.
    """
    stream.read(1)
    chunks = []
    while True:
        chunk = stream.read(65536)
        if not chunk:
            raise PdfStreamError("Stream has ended unexpectedly")
        end = chunk.find(b">")
        if end >= 0:
            chunks.append(chunk[:end])
            stream.seek(end + 1 - len(chunk), os.SEEK_CUR)
            break
        chunks.append(chunk)
    digits = b"".join(chunks).translate(None, _WHITESPACE)
    if digits.translate(None, _HEX):
        raise PdfStreamError("Unexpected token in hex string")
    if len(digits) % 2:
        digits += b"0"
    return generic.pdf_string(binascii.unhexlify(digits))


def install_fast_hex_reader() -> None:
    generic.read_hex_string_from_stream = read_hex_string_from_stream

