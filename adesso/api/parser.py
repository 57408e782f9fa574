"""Reading request bodies and query strings strictly, before anything reaches the database.

JSON may carry text no database can store: NUL (PostgreSQL refuses it in text
and jsonb) and lone surrogates (not encodable as UTF-8). They are refused here,
once for every endpoint, instead of failing as a 500 deep inside a query.
"""

import json
from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.parser import Parser


class BadRequest(Exception):
    """Input that cannot be read at all; the API answers 400 with `code` and `message`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def unstorable(value: str) -> str | None:
    """Why a string cannot be stored, or None when it can."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (lone surrogate)"
    return None


def check_storable(data: Any, where: str = "body") -> None:
    """Raise BadRequest if any key or string value in a parsed JSON document is unstorable.

    Iterative, so a deeply nested document cannot exhaust the stack.
    """
    stack: list[tuple[str, Any]] = [(where, data)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            problem = unstorable(item)
            if problem:
                raise BadRequest("invalid_text", f"{path} {problem}")
        elif isinstance(item, dict):
            for key, value in item.items():
                problem = unstorable(key)
                if problem:
                    raise BadRequest("invalid_text", f"a key in {path} {problem}")
                stack.append((f"{path}.{key}", value))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", value) for i, value in enumerate(item))


def _number(text: str) -> int | float:
    """A JSON number with a fraction of zero (`81.0`) is an integer, as JSON Schema reads
    it: request bodies are validated strictly (adesso/api/schemas.py: BodyIn), and
    strict validation would otherwise refuse it where the schema says integer."""
    value = float(text)
    return int(value) if value.is_integer() and abs(value) < 2**63 else value


class StrictParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest("invalid_utf8", f"The body is not valid UTF-8 (byte {exc.start})") from None
        try:
            data = json.loads(text, parse_float=_number)
        except json.JSONDecodeError as exc:
            raise BadRequest("invalid_json", f"The body is not valid JSON: {exc}") from None
        except RecursionError:
            raise BadRequest("invalid_json", "The body is nested too deeply") from None
        check_storable(data)
        if not isinstance(data, dict):
            raise BadRequest("invalid_json", "The body must be a JSON object")
        return data

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        result = super().parse_querydict(data, list_fields, request)
        check_storable(result, "query")
        return result
