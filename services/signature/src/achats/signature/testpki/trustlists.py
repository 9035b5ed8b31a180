"""Test trusted lists (ETSI TS 119 612), signed like the real ones: enveloped XAdES by the list operator.

The list of the lists (LOTL) points to the French list and names the certificate that signs it;
the French list names the qualified CA (CA/QC, granted, for e-signatures) and the qualified
timestamp authority (TSA/QTST) of the test PKI.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import SignatureConstructionMethod
from signxml.xades import XAdESSigner

from .pki import TestPki

TSL = "http://uri.etsi.org/02231/v2#"
TSLX = "http://uri.etsi.org/02231/v2/additionaltypes#"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
TRSTSVC = "http://uri.etsi.org/TrstSvc"
EU_GENERIC = f"{TRSTSVC}/TrustedList/TSLType/EUgeneric"
EU_LOTL_TYPE = f"{TRSTSVC}/TrustedList/TSLType/EUlistofthelists"
TSL_MIME = "application/vnd.etsi.tsl+xml"
GRANTED = f"{TRSTSVC}/TrustedList/Svcstatus/granted"
CA_QC = f"{TRSTSVC}/Svctype/CA/QC"
TSA_QTST = f"{TRSTSVC}/Svctype/TSA/QTST"
FOR_ESIGNATURES = f"{TRSTSVC}/TrustedList/SvcInfoExt/ForeSignatures"


def _el(parent: etree._Element, tag: str, text: str | None = None, ns: str = TSL, **attrib: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", **attrib)
    if text is not None:
        element.text = text
    return element


def _names(parent: etree._Element, tag: str, *names: tuple[str, str]) -> None:
    holder = _el(parent, tag)
    for lang, value in names:
        _el(holder, "Name", value, **{XML_LANG: lang})


def _uris(parent: etree._Element, tag: str, *uris: str) -> None:
    holder = _el(parent, tag)
    for uri in uris:
        _el(holder, "URI", uri, **{XML_LANG: "en"})


def _address(parent: etree._Element, tag: str, street: str, city: str, postal_code: str, country: str,
             email: str) -> None:
    address = _el(parent, tag)
    postal = _el(_el(address, "PostalAddresses"), "PostalAddress", **{XML_LANG: "fr"})
    _el(postal, "StreetAddress", street)
    _el(postal, "Locality", city)
    _el(postal, "PostalCode", postal_code)
    _el(postal, "CountryName", country)
    _uris(address, "ElectronicAddress", f"mailto:{email}")


def _b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def _digital_identity(parent: etree._Element, tag: str, cert: x509.Certificate) -> None:
    _el(_el(_el(parent, tag), "DigitalId"), "X509Certificate", _b64(cert))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _scheme_information(root: etree._Element, *, list_type: str, sequence: int, operator: str, territory: str,
                        scheme_name: str, rules: tuple[str, ...]) -> etree._Element:
    """Everything of the scheme information up to the dates (the LOTL's pointers come in between)."""
    info = _el(root, "SchemeInformation")
    _el(info, "TSLVersionIdentifier", "6")
    _el(info, "TSLSequenceNumber", str(sequence))
    _el(info, "TSLType", list_type)
    _names(info, "SchemeOperatorName", ("en", operator), ("fr", operator))
    _address(info, "SchemeOperatorAddress", "1 rue de l'Exemple", "Paris", "75007", territory,
             f"trusted-list@{territory.lower()}.example")
    _names(info, "SchemeName", ("en", scheme_name))
    _uris(info, "SchemeInformationURI", f"https://trusted-list.{territory.lower()}.example/")
    _el(info, "StatusDeterminationApproach", f"{TRSTSVC}/TrustedList/StatusDetn/EUappropriate")
    _uris(info, "SchemeTypeCommunityRules", *rules)
    _el(info, "SchemeTerritory", territory)
    policy = _el(info, "PolicyOrLegalNotice")
    _el(policy, "TSLLegalNotice", "Liste de test de la Plateforme des achats, sans valeur juridique.",
        **{XML_LANG: "fr"})
    _el(info, "HistoricalInformationPeriod", "65535")
    return info


def _finish_scheme_information(info: etree._Element, issued: datetime, next_update: datetime, location: str) -> None:
    _el(info, "ListIssueDateTime", _iso(issued))
    _el(_el(info, "NextUpdate"), "dateTime", _iso(next_update))
    _uris(info, "DistributionPoints", location)


def _sign(root: etree._Element, pki: TestPki, signer: str) -> bytes:
    key_pem = pki.key(signer).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption())
    xades = XAdESSigner(method=SignatureConstructionMethod.enveloped, signature_algorithm="rsa-sha256",
                        digest_algorithm="sha256")
    signed = xades.sign(root, key=key_pem, cert=[pki.pem(signer).decode()], always_add_key_value=False)
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def _times(issued: datetime | None, validity: timedelta) -> tuple[datetime, datetime]:
    issued = (issued or datetime.now(UTC)).replace(microsecond=0)
    return issued, issued + validity


def national_list(pki: TestPki, *, sequence: int = 1, issued: datetime | None = None,
                  validity: timedelta = timedelta(days=180)) -> bytes:
    """The French trusted list of the test PKI, signed by ``tl-signer-fr``."""
    issued, next_update = _times(issued, validity)
    location = f"{pki.manifest['tl_url']}/tl-fr.xml"
    root = etree.Element(f"{{{TSL}}}TrustServiceStatusList", nsmap={None: TSL, "tslx": TSLX},
                         Id="TL-FR", TSLTag="http://uri.etsi.org/19612/TSLTag")
    info = _scheme_information(root, list_type=EU_GENERIC, sequence=sequence, operator="ANSSI (test)",
                               territory="FR", scheme_name="FR: liste de confiance de test",
                               rules=(f"{TRSTSVC}/TrustedList/schemerules/EUcommon",
                                      f"{TRSTSVC}/TrustedList/schemerules/FR"))
    _finish_scheme_information(info, issued, next_update, location)
    provider = _el(_el(root, "TrustServiceProviderList"), "TrustServiceProvider")
    tsp_info = _el(provider, "TSPInformation")
    _names(tsp_info, "TSPName", ("fr", "Confiance Qualifiée (test)"), ("en", "Confiance Qualifiée (test)"))
    _names(tsp_info, "TSPTradeName", ("en", "VATFR-12552100554"), ("fr", "Confiance Qualifiée"))
    _address(tsp_info, "TSPAddress", "2 avenue de la Confiance", "Toulouse", "31000", "FR",
             "contact@confiance.example")
    _uris(tsp_info, "TSPInformationURI", "https://confiance.example/")
    services = _el(provider, "TSPServices")
    status_start = issued - timedelta(days=365)
    for service_type, slug, label, extensions in (
            (CA_QC, "qualified-ca", "Achats Test CA Qualifiée", (FOR_ESIGNATURES,)),
            (TSA_QTST, "tsa", "Achats Test Horodatage Qualifié", ())):
        service = _el(_el(services, "TSPService"), "ServiceInformation")
        _el(service, "ServiceTypeIdentifier", service_type)
        _names(service, "ServiceName", ("en", label))
        _digital_identity(service, "ServiceDigitalIdentity", pki.cert(slug))
        _el(service, "ServiceStatus", GRANTED)
        _el(service, "StatusStartingTime", _iso(status_start))
        if extensions:
            holder = _el(service, "ServiceInformationExtensions")
            for uri in extensions:
                extension = _el(holder, "Extension", Critical="true")
                _el(_el(extension, "AdditionalServiceInformation"), "URI", uri, **{XML_LANG: "en"})
    return _sign(root, pki, "tl-signer-fr")


def list_of_the_lists(pki: TestPki, *, sequence: int = 1, issued: datetime | None = None,
                      validity: timedelta = timedelta(days=180)) -> bytes:
    """The test LOTL, pointing to the French list; signed by ``lotl-signer``."""
    issued, next_update = _times(issued, validity)
    base = pki.manifest["tl_url"]
    root = etree.Element(f"{{{TSL}}}TrustServiceStatusList", nsmap={None: TSL, "tslx": TSLX},
                         Id="LOTL", TSLTag="http://uri.etsi.org/19612/TSLTag")
    info = _scheme_information(root, list_type=EU_LOTL_TYPE, sequence=sequence,
                               operator="Commission européenne (test)", territory="EU",
                               scheme_name="EU: liste des listes de test",
                               rules=(f"{TRSTSVC}/TrustedList/schemerules/EUlistofthelists",))
    pointers = _el(info, "PointersToOtherTSL")
    for location, signer, list_type, operator, territory, rules in (
            (f"{base}/lotl.xml", "lotl-signer", EU_LOTL_TYPE, "Commission européenne (test)", "EU",
             (f"{TRSTSVC}/TrustedList/schemerules/EUlistofthelists",)),
            (f"{base}/tl-fr.xml", "tl-signer-fr", EU_GENERIC, "ANSSI (test)", "FR",
             (f"{TRSTSVC}/TrustedList/schemerules/EUcommon", f"{TRSTSVC}/TrustedList/schemerules/FR"))):
        pointer = _el(pointers, "OtherTSLPointer")
        _digital_identity(_el(pointer, "ServiceDigitalIdentities"), "ServiceDigitalIdentity", pki.cert(signer))
        _el(pointer, "TSLLocation", location)
        additional = _el(pointer, "AdditionalInformation")
        _el(_el(additional, "OtherInformation"), "TSLType", list_type)
        _names(_el(additional, "OtherInformation"), "SchemeOperatorName", ("en", operator))
        _uris(_el(additional, "OtherInformation"), "SchemeTypeCommunityRules", *rules)
        _el(_el(additional, "OtherInformation"), "SchemeTerritory", territory)
        _el(_el(additional, "OtherInformation"), "MimeType", TSL_MIME, ns=TSLX)
    # The pointers come before the dates in the schema's order.
    _finish_scheme_information(info, issued, next_update, f"{base}/lotl.xml")
    return _sign(root, pki, "lotl-signer")


def tampered(signed_list: bytes) -> bytes:
    """The same list with one signed value changed after signing: its signature no longer verifies."""
    return signed_list.replace(b"<TSLSequenceNumber>", b"<TSLSequenceNumber>9", 1)
