"""The REST API (django-ninja): one NinjaAPI, routers per domain noun.

Every error leaves as JSON `{"error": code, "message": text}` with a 4xx status.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import register_converter
from ninja import NinjaAPI, Router, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.security import HttpBearer

from adesso.accounts.access import ROLE_ATTRIBUTE, user_for_api_token
from adesso.accounts.models import User
from adesso.api import contract
from adesso.api.parser import BadRequest, StrictParser
from adesso.lib.errors import ActionError


class AgentToken(HttpBearer):
    """`Authorization: Bearer <personal token>`; request.auth is the agent."""

    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return user_for_api_token(token)


# The inbound endpoints authenticate themselves with the channel's token (not
# the agent's): documented here so the OpenAPI document names the scheme they use.
CHANNEL_TOKEN_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "The channel's inbound token, shown once when the channel is created.",
}


class AdessoApi(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema["components"].setdefault("securitySchemes", {})["ChannelToken"] = CHANNEL_TOKEN_SCHEME
        contract.complete(schema, self.declared_roles())
        return schema

    def declared_roles(self) -> dict[str, str]:
        """operationId -> the least role its endpoint declares (adesso.accounts.access.for_role)."""
        return {
            self.get_openapi_operation_id(operation): getattr(operation.view_func, ROLE_ATTRIBUTE)
            for _prefix, router in self._routers
            for path_view in router.path_operations.values()
            for operation in path_view.operations
            if hasattr(operation.view_func, ROLE_ATTRIBUTE)
        }


api = AdessoApi(
    title="Adesso API",
    version="1",
    description=(
        "Customer care on every channel. Agents authenticate with a personal token "
        "(`adesso token EMAIL`); channels' inbound endpoints with the channel's token."
    ),
    auth=AgentToken(),
    parser=StrictParser(),
    # Swagger UI from ninja's bundled static files ("ninja" is an installed app), and
    # no badge fetched from the public validator: the docs work without internet.
    docs=Swagger(settings={"validatorUrl": None}),
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


@api.exception_handler(BadRequest)
def on_bad_request(request: HttpRequest, exc: BadRequest) -> HttpResponse:
    return error(request, 400, exc.code, exc.message)


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
    # ninja wraps whatever the parser raised into "Cannot parse request body".
    cause = exc.__cause__
    if isinstance(cause, BadRequest):
        return error(request, 400, cause.code, cause.message)
    if isinstance(cause, RequestDataTooBig):
        return on_too_big(request, cause)
    return error(request, exc.status_code, "error", str(exc))


class AnyPath:
    """A URL converter matching any rest of a path, newlines included (`path` stops at them)."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AnyPath, "anypath")
unknown = Router()


@unknown.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{anypath:rest}", auth=None, include_in_schema=False)
def unknown_route(request: HttpRequest, rest: str) -> HttpResponse:
    """Anything under /api/v1/ that no endpoint matched: a JSON 404 like every other error."""
    raise Http404("No such endpoint")


def _register_routers() -> None:
    from adesso.api import (
        agents,
        audit,
        bulk,
        canned,
        channels,
        coach,
        contacts,
        conversations,
        insights,
        notifications,
        privacy,
        processes,
        reports,
        routing,
        search,
        silence,
        surveys,
        tags,
    )
    from adesso.channels.registry import api_routers

    for prefix, router in api_routers():  # channel kinds fed by REST clients (api)
        api.add_router(prefix, router, tags=["intake"])
    # Before search's "/" router: /agents/... and /teams are theirs.
    api.add_router("/agents", agents.router, tags=["agents"])
    api.add_router("/teams", agents.teams_router, tags=["agents"])
    # Before /conversations: its /{code} would take /conversations/bulk and /tags.
    api.add_router("/", bulk.router, tags=["conversations"])
    api.add_router("/", tags.router, tags=["tags"])
    api.add_router("/canned-replies", canned.router, tags=["canned replies"])
    api.add_router("/conversations", conversations.router, tags=["conversations"])
    api.add_router("/contacts", contacts.router, tags=["contacts"])
    api.add_router("/channels", channels.router, tags=["channels"])
    api.add_router("/silence", silence.router, tags=["conversations"])
    api.add_router("/reports", reports.router, tags=["reports"])
    api.add_router("/coach", coach.router, tags=["coach"])
    api.add_router("/insights/surveys", surveys.router, tags=["insights"])
    api.add_router("/insights/processes", processes.router, tags=["insights"])
    api.add_router("/insights", insights.router, tags=["insights"])
    api.add_router("/", search.router, tags=["search", "agents"])
    api.add_router("/", routing.router, tags=["routing"])
    api.add_router("/notifications", notifications.router, tags=["notifications"])
    api.add_router("/audit", audit.router, tags=["privacy"])
    api.add_router("/", privacy.router, tags=["privacy"])
    api.add_router("/", unknown)  # last: its pattern matches every path


_register_routers()
