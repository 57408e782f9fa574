"""What every operation promises, decided once for the whole OpenAPI document.

Some answers do not come from an endpoint's own code but from the machinery in
front of it, the same for every operation: the token check (401), the JSON parser
(400 for a body that is not JSON, not UTF-8 or carries NUL), the body limit (413),
validation of parameters and body (422), and the lookup of the object a path
names (404). They are added here to every operation they can happen on, so that
a new endpoint is documented truthfully without listing them by hand.

The document is also made self-contained: a schema embedded whole (e.g. a pydantic
model's `model_json_schema()` in `openapi_extra`) keeps its definitions under a
local `$defs` that the document's root does not have; they move to
`components/schemas` and every reference follows them.
"""

from __future__ import annotations

from typing import Any

ERROR_REF = "#/components/schemas/ErrorOut"
ERROR_SCHEMA = {
    "title": "ErrorOut",
    "type": "object",
    "properties": {"error": {"title": "Error", "type": "string"}, "message": {"title": "Message", "type": "string"}},
    "required": ["error", "message"],
}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

DESCRIPTIONS = {
    "400": "The input cannot be read (not JSON, not UTF-8, a NUL character) or the action refuses it: "
    "`error` says why",
    "401": "No valid 'Authorization: Bearer <token>'",
    "403": "The caller's role may not do this (see x-adesso-role)",
    "404": "No such object in the caller's organisation",
    "413": "The request body is too large",
    "422": "A parameter or a field of the body does not match the documented schema",
}


def _error_response(status: str) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }


def implied_statuses(operation: dict[str, Any]) -> set[str]:
    """The statuses the machinery in front of an operation can answer with."""
    parameters = operation.get("parameters", [])
    where = {p.get("in") for p in parameters}
    has_body = "requestBody" in operation
    statuses = set()
    if operation.get("security"):
        statuses.add("401")
    if parameters or has_body:
        statuses.add("422")
    if has_body or "query" in where:
        statuses.add("400")
    if has_body:
        statuses.add("413")
    if "path" in where:
        statuses.add("404")
    return statuses


def _hoist_defs(node: Any, into: dict[str, Any]) -> Any:
    """Move every nested `$defs` into `into` and point `#/$defs/X` at components."""
    if isinstance(node, list):
        return [_hoist_defs(item, into) for item in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        if key == "$defs":
            for name, definition in value.items():
                into.setdefault(name, _hoist_defs(definition, into))
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
            value = "#/components/schemas/" + value.removeprefix("#/$defs/")
        result[key] = _hoist_defs(value, into)
    return result


def complete(schema: dict[str, Any], roles: dict[str, str] | None = None) -> dict[str, Any]:
    """The document with every implied status documented and no dangling reference.

    `roles` maps an operationId to the least role its endpoint declares: shown as
    `x-adesso-role`, with the 403 everyone below it gets."""
    roles = roles or {}
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.setdefault("ErrorOut", ERROR_SCHEMA)
    hoisted: dict[str, Any] = {}
    schema["paths"] = _hoist_defs(schema.get("paths", {}), hoisted)
    components["schemas"] = _hoist_defs(schemas, hoisted)
    for name, definition in hoisted.items():
        components["schemas"].setdefault(name, definition)
    for item in schema["paths"].values():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            implied = implied_statuses(operation)
            role = roles.get(operation.get("operationId", ""))
            if role:
                operation["x-adesso-role"] = role
                implied.add("403")
            for status in sorted(implied - set(responses)):
                responses[status] = _error_response(status)
    return schema
