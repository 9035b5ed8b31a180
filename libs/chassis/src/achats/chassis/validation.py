"""Request validation with every error reported at once, per field, in French."""

from __future__ import annotations

import copy
import json
import typing as t
import uuid
from datetime import date, datetime

from connexion.datastructures import MediaTypeDict
from connexion.json_schema import Draft4RequestValidator
from connexion.lifecycle import ConnexionRequest
from connexion.utils import is_null, is_nullable
from connexion.validators import (
    VALIDATOR_MAP,
    FormDataValidator,
    JSONRequestBodyValidator,
    MultiPartFormDataValidator,
    ParameterValidator,
)
from jsonschema import Draft4Validator, FormatChecker, ValidationError
from starlette.formparsers import MultiPartException, MultiPartParser

from .problems import FieldError, Problem

VALIDATION_DETAIL = "Certaines données sont invalides. Corrigez les champs signalés."

_TYPES = {"string": "texte", "integer": "nombre entier", "number": "nombre", "boolean": "booléen",
          "object": "objet", "array": "liste", "null": "vide"}
_FORMATS = {"email": "Adresse e-mail invalide.", "uuid": "Identifiant invalide.",
            "date": "Date invalide (format AAAA-MM-JJ attendu).", "date-time": "Date et heure invalides.",
            "uri": "Adresse invalide.", "ipv4": "Adresse IP invalide."}


# Draft 4 knows no "uuid" format; ids are UUIDs everywhere here, so a malformed one is a 400.
format_checker = FormatChecker(list(Draft4Validator.FORMAT_CHECKER.checkers))


@format_checker.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or str(uuid.UUID(value)) == value.lower()


@format_checker.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    # RFC 3339: a date, a time and an offset (or Z); jsonschema checks it only with an extra package.
    if not isinstance(value, str):
        return True
    moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return "T" in value.upper() and moment.tzinfo is not None


@format_checker.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or (len(value) == 10 and date.fromisoformat(value) is not None)


def _path(parts: t.Iterable[t.Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def french_message(error: ValidationError) -> str:
    kind, expected = error.validator, error.validator_value
    if kind == "required":
        return "Ce champ est obligatoire."
    if kind == "type":
        names = expected if isinstance(expected, list) else [expected]
        return "Type invalide : " + " ou ".join(_TYPES.get(n, n) for n in names) + " attendu."
    if kind == "minLength":
        return "Ce champ est obligatoire." if expected == 1 else f"Doit contenir au moins {expected} caractères."
    if kind == "maxLength":
        return f"Ne doit pas dépasser {expected} caractères."
    if kind == "pattern":
        return "Format invalide."
    if kind == "format":
        return _FORMATS.get(expected, "Format invalide.")
    if kind == "enum":
        return "Valeur non autorisée. Valeurs possibles : " + ", ".join(str(v) for v in expected) + "."
    if kind == "minimum":
        return f"Doit être supérieur ou égal à {expected}."
    if kind == "maximum":
        return f"Doit être inférieur ou égal à {expected}."
    if kind == "minItems":
        return f"Doit contenir au moins {expected} élément(s)."
    if kind == "maxItems":
        return f"Ne doit pas contenir plus de {expected} éléments."
    if kind == "additionalProperties":
        return "Champ non autorisé."
    return "Valeur invalide."


def field_errors(errors: t.Iterable[ValidationError], prefix: str = "") -> list[FieldError]:
    out: list[FieldError] = []
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        base = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            names = [n for n in error.validator_value if n not in error.instance]
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            names = [n for n in error.instance if n not in allowed]
        else:
            names = [None]
        message = french_message(error)
        for name in names:
            parts = base + ([name] if name is not None else [])
            path = _path(parts)
            found = FieldError(field=f"{prefix}{path}" if path else (prefix.rstrip(".") or "body"), message=message)
            # jsonschema reports a "required" error per missing property, each listing them all.
            if found not in out:
                out.append(found)
    return out


def validation_problem(errors: list[FieldError]) -> Problem:
    return Problem(status=400, code="validation_failed", detail=VALIDATION_DETAIL, errors=errors)


class FrenchJSONBodyValidator(JSONRequestBodyValidator):
    @property
    def _validator(self) -> Draft4Validator:
        # connexion's validator class understands OpenAPI's ``nullable`` and ``readOnly``.
        return Draft4RequestValidator(self._schema, format_checker=format_checker)

    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: t.Any) -> t.Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw:
            return None
        try:
            return json.loads(raw.decode(self._encoding))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise Problem(status=400, code="invalid_json",
                          detail="Le contenu envoyé n'est pas un document JSON valide.") from None

    def _validate(self, body: t.Any) -> dict | None:
        if not self._nullable and body is None:
            raise Problem(status=400, code="body_required", detail="Le contenu de la requête est obligatoire.")
        errors = field_errors(self._validator.iter_errors(body))
        if errors:
            raise validation_problem(errors)
        return None


class FrenchParameterValidator(ParameterValidator):
    @staticmethod
    def validate_parameter(parameter_type, value, param, param_name=None):
        if is_nullable(param) and is_null(value):
            return None
        if value is not None:
            schema = copy.deepcopy(param.get("schema", param))
            error = next(iter(Draft4Validator(schema, format_checker=format_checker).iter_errors(value)), None)
            return french_message(error) if error is not None else None
        if param.get("required"):
            return "Ce paramètre est obligatoire."
        return None

    def validate_request(self, request: ConnexionRequest) -> None:
        errors: list[FieldError] = []
        if self.strict_validation:
            for name in sorted(self.validate_query_parameter_list(request, self.security_query_params)):
                errors.append(FieldError(field=name, message="Paramètre non autorisé."))
        checks = (("query", self.validate_query_parameter), ("path", self.validate_path_parameter),
                  ("header", self.validate_header_parameter), ("cookie", self.validate_cookie_parameter))
        for location, check in checks:
            for param in self.parameters.get(location, []):
                message = check(param, request)
                if message:
                    errors.append(FieldError(field=param["name"], message=message))
        if errors:
            raise validation_problem(errors)


REPLAY_CHUNK = 4 * 1024 * 1024


def coalesced(messages: t.Iterable[t.MutableMapping[str, t.Any]],
              limit: int = REPLAY_CHUNK) -> t.Iterator[t.MutableMapping[str, t.Any]]:
    """The body messages of a request merged into chunks of up to ``limit`` bytes.

    The validator has read the whole body to check it and replays it to the Flask handler, which runs
    in another thread: each message costs a round trip between that thread and the event loop
    (a2wsgi). A 20 MB upload arrives in hundreds of socket-sized messages; merged, in five.
    """
    pending: list[bytes] = []
    size = 0
    for message in messages:
        if message.get("type") != "http.request":
            if pending:
                yield {"type": "http.request", "body": b"".join(pending), "more_body": True}
                pending, size = [], 0
            yield message
            continue
        body = message.get("body", b"")
        pending.append(body)
        size += len(body)
        if not message.get("more_body", False) or size >= limit:
            yield {"type": "http.request", "body": b"".join(pending), "more_body": message.get("more_body", False)}
            pending, size = [], 0
    if pending:  # the body was not read to its end: the rest still comes from the real channel
        yield {"type": "http.request", "body": b"".join(pending), "more_body": True}


class _FrenchFormMixin:
    def _validate(self, body: t.Any) -> dict | None:
        if not isinstance(body, dict):
            raise Problem(status=400, code="body_required", detail="Le contenu de la requête est obligatoire.")
        errors = field_errors(self._validator.iter_errors(body))
        if errors:
            raise validation_problem(errors)
        return None

    @staticmethod
    def _insert_messages(receive: t.Callable, *, messages: t.Iterable[t.MutableMapping[str, t.Any]]) -> t.Callable:
        return FormDataValidator._insert_messages(receive, messages=coalesced(messages))


class FrenchFormDataValidator(_FrenchFormMixin, FormDataValidator):
    pass


class PresenceOnlyMultiPartParser(MultiPartParser):
    """Multipart parsing for validation only: a file part's bytes are skipped, not spooled.

    The schema can only say whether a file part is there (connexion replaces its content by ``""``
    before validating), and the handler parses the body again to read it. Starlette's parser would
    copy every chunk of every file into a temporary file through the thread pool (to disk beyond
    1 MB): for a 20 MB upload that copy cost as much as the handler's own parse.
    """

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current_part.file is None:  # a plain field: its value is validated
            super().on_part_data(data, start, end)


class FrenchMultiPartFormDataValidator(_FrenchFormMixin, MultiPartFormDataValidator):
    @property
    def _form_parser_cls(self):
        return PresenceOnlyMultiPartParser

    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope) -> dict:
        try:
            return await super()._parse(stream, scope)
        except MultiPartException:
            # No boundary, a broken part header, too many parts...: the client's fault, not a 500.
            raise Problem(status=400, code="invalid_multipart",
                          detail="Le contenu de la requête n'est pas un formulaire multipart valide.") from None


def validator_map() -> dict:
    body = MediaTypeDict(dict(VALIDATOR_MAP["body"]))
    body["*/*json"] = FrenchJSONBodyValidator
    body["application/x-www-form-urlencoded"] = FrenchFormDataValidator
    body["multipart/form-data"] = FrenchMultiPartFormDataValidator
    return {**VALIDATOR_MAP, "parameter": FrenchParameterValidator, "body": body}
