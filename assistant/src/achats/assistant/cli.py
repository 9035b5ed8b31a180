"""`achats-assistant`: « Mon Assistant Marchés Publics » at the terminal."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys

from . import __version__
from .errors import AssistantError
from .tokens import Keystore


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
    return parser


def keystore_from(args) -> Keystore:
    store = Keystore(modules=args.module)
    for path in args.pkcs12:
        store.add_pkcs12(path, getpass.getpass(f"Mot de passe du fichier {os.path.basename(path)} : "))
    return store


def cmd_certificates(args) -> int:
    store = keystore_from(args)
    found = [info.as_dict() for info in store.certificates()]
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
        for warning in info["warnings"]:
            print(f"   Attention : {warning['message']}")
    for problem in store.problems:
        print(f"Attention : {problem['message']}", file=sys.stderr)
    return 0


COMMANDS = {"certificats": cmd_certificates, "certificates": cmd_certificates}


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
