"""The REST API (django-ninja): one NinjaAPI, routers per domain noun.

Every error leaves as JSON `{"error": code, "message": text}` with a 4xx status.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from adesso.accounts.access import user_for_api_token
from adesso.accounts.models import User
from adesso.lib.errors import ActionError


class AgentToken(HttpBearer):
    """`Authorization: Bearer <personal token>`; request.auth is the agent."""

    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return user_for_api_token(token)


api = NinjaAPI(
    title="Adesso API",
    version="1",
    description=(
        "Customer care on every channel. Agents authenticate with a personal token "
        "(`adesso token EMAIL`); channels' inbound endpoints with the channel's token."
    ),
    auth=AgentToken(),
    urls_namespace="api",
)


def error(request: HttpRequest, status: int, code: str, message: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"error": code, "message": message, **extra}, status=status)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = []
    for item in exc.errors:
        loc = ".".join(str(p) for p in item.get("loc", ()) if p not in ("body", "payload"))
        details.append({"field": loc, "message": item.get("msg", "invalid")})
    summary = "; ".join(f"{d['field']}: {d['message']}" if d["field"] else d["message"] for d in details)
    return error(request, 422, "invalid", summary or "Invalid input", details=details)


@api.exception_handler(ActionError)
def on_action_error(request: HttpRequest, exc: ActionError) -> HttpResponse:
    return error(request, 409 if exc.code.startswith("already") else 400, exc.code, exc.message)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error(request, 404, "not_found", str(exc) or "Not found")


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error(request, 403, "forbidden", str(exc) or "You are not allowed to do this")


@api.exception_handler(AuthenticationError)
def on_unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error(request, 401, "unauthorized", "A valid 'Authorization: Bearer <token>' is required")


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error(request, 413, "too_large", "The request body is too large")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error(request, exc.status_code, "error", str(exc))


def _register_routers() -> None:
    from adesso.api import channels, contacts, conversations, search
    from adesso.channels.api.views import router as inbound_router

    api.add_router("/inbound", inbound_router, tags=["intake"])
    api.add_router("/conversations", conversations.router, tags=["conversations"])
    api.add_router("/contacts", contacts.router, tags=["contacts"])
    api.add_router("/channels", channels.router, tags=["channels"])
    api.add_router("/", search.router, tags=["search", "agents"])


_register_routers()
