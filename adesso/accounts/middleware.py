from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


class AgentLanguageMiddleware:
    """The UI speaks the logged-in agent's language; others get the browser's.

    Runs before AuthenticationMiddleware so the user is read lazily from the
    session only when the language is actually needed.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            # The API speaks the default language, whatever a previous request on this
            # thread activated.
            with translation.override(settings.LANGUAGE_CODE):
                return self.get_response(request)
        language = None
        user = getattr(request, "user", None)
        if user is None:
            # The auth middleware's own getter caches the user on the request,
            # so AuthenticationMiddleware does not load it a second time.
            from django.contrib.auth.middleware import get_user

            user = get_user(request)
        if user is not None and user.is_authenticated:
            language = getattr(user, "language", None)
        if not language:
            language = translation.get_language_from_request(request)
        with translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()  # type: ignore[attr-defined]
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
