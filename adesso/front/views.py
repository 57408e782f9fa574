"""Agent web UI: short views that parse input, call an action and render."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class LoginView(auth_views.LoginView):
    template_name = "front/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "front/inbox.html", {})
