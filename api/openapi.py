"""The service description as OpenAPI 3.0, which OGC API - Features requires (FastAPI writes 3.1).

FastAPI's schema uses a few JSON Schema 2020-12 forms that 3.0 does not have; they are rewritten here:
``anyOf [X, {type: null}]`` -> X with ``nullable``, ``type: [t, "null"]`` -> ``t`` with ``nullable``, ``const`` ->
``enum``, numeric ``exclusiveMinimum``/``exclusiveMaximum`` -> the boolean form, ``contentMediaType`` of a file ->
``format: binary``, and schema ``examples`` -> ``example``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"


def _null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null" and len(schema) == 1


def _schema(node: Any) -> Any:
    """One schema object (and everything under it) in 3.0 form."""
    if isinstance(node, list):
        return [_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {k: _schema(v) for k, v in value.items()}
        elif key in ("default", "example", "enum"):
            out[key] = value
        else:
            out[key] = _schema(value)
    for combiner in ("anyOf", "oneOf"):
        options = out.get(combiner)
        if isinstance(options, list) and any(_null(o) for o in options):
            rest = [o for o in options if not _null(o)]
            del out[combiner]
            if len(rest) == 1 and "$ref" not in rest[0]:
                merged = {**rest[0], **out}
                out = merged
            elif len(rest) == 1:
                out["allOf"] = rest
            else:
                out[combiner] = rest
            out["nullable"] = True
    kind = out.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        if len(kinds) < len(kind):
            out["nullable"] = True
        out["type"] = kinds[0] if len(kinds) == 1 else kinds
        if len(kinds) != 1:
            del out["type"]
    if "const" in out:
        out["enum"] = [out.pop("const")]
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = out.get(bound)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[plain] = value
            out[bound] = True
    if "contentMediaType" in out:
        out.pop("contentMediaType")
        out["format"] = "binary"
    if "examples" in out and isinstance(out["examples"], list):
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    return out


def _walk(node: Any) -> Any:
    """Rewrite every schema found in the document (components, parameters, media types)."""
    if isinstance(node, list):
        return [_walk(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "schema":
            out[key] = _schema(value)
        elif key == "schemas" and isinstance(value, dict):
            out[key] = {k: _schema(v) for k, v in value.items()}
        else:
            out[key] = _walk(value)
    return out


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `field` names what is wrong.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": "string"},
        "differences": {"type": "object", "description": "per field: the stored and the submitted value"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
OPENROSA_RESPONSE: dict[str, Any] = {
    "type": "string",
    "description": "An OpenRosaResponse document whose message ODK Collect shows (api/routes/openrosa.py)",
}
# What any route may answer besides its own success (401 for a bad token even on public routes; 400/422 for
# bad parameters or bodies; 413 for a body over the limits; 503 when the database is down).
COMMON_PROBLEMS = {
    "400": "A malformed parameter or body",
    "401": "Not signed in, or the token is unknown, expired or revoked",
    "403": "Signed in with a role that may not call this",
    "404": "No such resource",
    "409": "Conflicts with what is stored",
    "413": "Body or file too large",
    "415": "Unsupported media type",
    "422": "Invalid input (the field is named)",
    "429": "Too many attempts; retry after Retry-After seconds",
    "503": "The database is unavailable; retry after Retry-After seconds",
}


def _document_problems(document: dict[str, Any]) -> None:
    """Every operation answers problem+json for the common error statuses."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, description in COMMON_PROBLEMS.items():
                content: dict[str, Any] = {"application/problem+json": {"schema": ref}}
                if path.startswith(
                    "/odk/"
                ):  # OpenRosa answers its own errors as XML, which ODK Collect shows
                    content["text/xml"] = {"schema": OPENROSA_RESPONSE}
                responses[status] = {"description": description, "content": content}


def openapi_30(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document in 3.0 form (built once, then cached on the app)."""
    cached = getattr(app.state, "openapi_30", None)
    if cached is not None:
        return dict(cached)
    document = _walk(app.openapi())
    _document_problems(document)
    document["openapi"] = "3.0.3"
    document.pop("jsonSchemaDialect", None)
    app.state.openapi_30 = document
    return dict(document)
