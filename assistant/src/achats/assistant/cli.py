"""`achats-assistant`: « Mon Assistant Marchés Publics » at the terminal."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys

from . import __version__
from .errors import AssistantError
from .platform import DEFAULT_PLATFORM, login, platform_url, signature_api
from .qualification import annotate
from .report import build_report, environment_tsa
from .server import DEFAULT_PORT, Assistant, AssistantServer
from .service import SignatureService
from .signing import as_dicts, sign_documents, summary
from .tokens import Keystore


def terminal_pin(info) -> str | None:
    """The PIN typed at the assistant's terminal, never echoed; an empty answer cancels."""
    what = "Mot de passe du fichier" if info.source == "pkcs12" else "Code PIN de la carte"
    if info.purpose:
        names = ", ".join(info.purpose.get("documents") or []) or "(document non précisé)"
        print(f"\nLa page {info.purpose['origin']} demande une signature : {names}", file=sys.stderr)
    pin = getpass.getpass(f"{what} « {info.location} » pour {info.holder} (Entrée seule : annuler) : ")
    return pin or None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="achats-assistant", description="Mon Assistant Marchés Publics")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--module", action="append", default=None, metavar="CHEMIN",
                        help="module PKCS#11 de votre carte ou clé (sinon les chemins habituels sont essayés)")
    parser.add_argument("--pkcs12", action="append", default=[], metavar="FICHIER",
                        help="fichier de certificat .p12/.pfx (son mot de passe est demandé)")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("certificats", aliases=["certificates"], help="lister les certificats")
    listing.add_argument("--json", action="store_true", help="sortie JSON")
    listing.add_argument("--plateforme", metavar="URL", help="plateforme à interroger sur les émetteurs qualifiés")
    sign = commands.add_parser("signer", aliases=["sign"], help="signer un ou plusieurs documents")
    sign.add_argument("documents", nargs="+", metavar="DOCUMENT")
    sign.add_argument("--certificat", metavar="N", help="numéro du certificat (voir « certificats ») ou son id")
    sign.add_argument("--niveau", choices=["B-B", "B-T", "B-LT"], help="niveau (sinon celui que conseille le service)")
    sign.add_argument("--xades", action="store_true", help="XAdES détachée au lieu de CAdES pour les fichiers non PDF")
    sign.add_argument("--plateforme", metavar="URL", help=f"adresse de la plateforme ({DEFAULT_PLATFORM} par défaut)")
    sign.add_argument("--identifiant", help="votre identifiant sur la plateforme (le mot de passe est demandé)")
    sign.add_argument("--json", action="store_true", help="résumé en JSON")
    serve = commands.add_parser("ouvrir", aliases=["serve"], help="attendre les pages de la plateforme (127.0.0.1)")
    serve.add_argument("--origine", metavar="URL", help="adresse de la plateforme dont les pages sont servies "
                                                      "(celle de --plateforme par défaut)")
    serve.add_argument("--plateforme", metavar="URL")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    report = commands.add_parser("tester", aliases=["report"], help="« Tester la configuration » du poste")
    report.add_argument("--plateforme", metavar="URL")
    report.add_argument("--signature-de-test", action="store_true", help="faire aussi une signature de test")
    return parser


def keystore_from(args) -> Keystore:
    store = Keystore(modules=args.module)
    for path in args.pkcs12:
        store.add_pkcs12(path, getpass.getpass(f"Mot de passe du fichier {os.path.basename(path)} : "))
    return store


def cmd_certificates(args) -> int:
    store = keystore_from(args)
    infos = store.certificates()
    found = annotate([info.as_dict() for info in infos], infos,
                     SignatureService(signature_api(platform_url(args.plateforme))))
    if args.json:
        print(json.dumps({"certificates": found, "problems": store.problems}, ensure_ascii=False, indent=2))
        return 0
    if not found:
        print("Aucun certificat trouvé : branchez votre carte ou clé de signature, ou ajoutez un fichier --pkcs12.")
    for number, info in enumerate(found, 1):
        print(f"{number}. {info['holder']}\n   Émis par : {info['issuer']}\n"
              f"   Valable du {info['not_before'][:10]} au {info['not_after'][:10]}\n"
              f"   Usage de la clé : {', '.join(info['key_usage']) or 'non précisé'}\n"
              f"   Emplacement : {info['location']}")
        if info.get("qualified_issuer"):
            print(f"   {info['qualified_issuer']['message']}")
        for warning in info["warnings"]:
            print(f"   Attention : {warning['message']}")
    for problem in store.problems:
        print(f"Attention : {problem['message']}", file=sys.stderr)
    return 0


def choose_certificate(store: Keystore, wanted: str | None):
    found = store.certificates()
    usable = [info for info in found if info.usable]
    if wanted:
        if wanted.isdigit() and 1 <= int(wanted) <= len(found):
            return found[int(wanted) - 1]
        return store.certificate(wanted)
    if len(usable) == 1:
        return usable[0]
    if not usable:
        raise AssistantError("no_certificate", "Aucun certificat de signature utilisable : branchez votre carte ou "
                                               "clé, ou ajoutez un fichier --pkcs12.")
    for number, info in enumerate(found, 1):
        print(f"{number}. {info.holder} — émis par {info.issuer}" + ("" if info.usable else " (inutilisable)"))
    answer = input("Numéro du certificat à utiliser : ").strip()
    return choose_certificate(store, answer or "0")


def cmd_sign(args) -> int:
    store = keystore_from(args)
    info = choose_certificate(store, args.certificat)
    platform = platform_url(args.plateforme)
    token = os.environ.get("ACHATS_ASSISTANT_TOKEN")
    if not token:
        identifiant = args.identifiant or input("Identifiant sur la plateforme : ").strip()
        token = login(platform, identifiant, getpass.getpass("Mot de passe de la plateforme : "))
    outcomes = sign_documents(args.documents, info.ref, keystore=store, service=SignatureService(
        signature_api(platform), token), pin_provider=terminal_pin, level=args.niveau,
        detached="xades" if args.xades else "cades")
    if args.json:
        print(json.dumps({"outcomes": as_dicts(outcomes)}, ensure_ascii=False, indent=2))
    else:
        print(summary(outcomes))
    return 0 if all(o.status == "signed" for o in outcomes) else 1


def terminal_confirm(origin: str, code: str) -> bool:
    print(f"\nLa page {origin} demande à utiliser l'assistant. Code d'association : {code[:3]} {code[3:]}",
          file=sys.stderr)
    return input("Est-ce le code affiché par la page ? Accepter (o/N) : ").strip().lower() in ("o", "oui", "y")


def cmd_serve(args) -> int:
    platform = platform_url(args.plateforme)
    assistant = Assistant(keystore=keystore_from(args), origin=args.origine or platform, pin_provider=terminal_pin,
                          confirm=terminal_confirm, platform=platform,
                          signature=SignatureService(signature_api(platform)), tsa_url=environment_tsa())
    with AssistantServer(assistant, port=args.port) as server:
        print(f"Mon Assistant Marchés Publics {__version__} attend les pages de {assistant.origin} sur {server.url}"
              " (Ctrl+C pour quitter).", file=sys.stderr)
        try:
            server.thread.join()
        except KeyboardInterrupt:
            print("\nAssistant fermé.", file=sys.stderr)
    return 0


def cmd_report(args) -> int:
    platform = platform_url(args.plateforme)
    report = build_report(keystore=keystore_from(args), platform=platform,
                          signature=SignatureService(signature_api(platform)), tsa_url=environment_tsa(),
                          pin_provider=terminal_pin if args.signature_de_test else None)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


COMMANDS = {"ouvrir": cmd_serve, "serve": cmd_serve, "tester": cmd_report, "report": cmd_report,
            "certificats": cmd_certificates, "certificates": cmd_certificates, "signer": cmd_sign, "sign": cmd_sign}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except AssistantError as exc:
        print(f"Erreur : {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nAnnulé : aucun document n'a été signé ni modifié.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
