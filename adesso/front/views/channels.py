"""The channels page (admins): every channel of the organisation with its state and its
inbound events, connecting, editing (secrets write-only), disabling, a test, and the
quarantined events with a replay button (docs/channels.md, Channels page).

Nothing here knows a kind by name: the registry lists the kinds, each kind gives its
configuration form (`config_form`), its fragment (`config_template()`) and its test
(`test_connection`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from adesso.accounts.access import admin_only, require_admin
from adesso.channels import actions
from adesso.channels.access import access_channel_for_admin, access_event_for_admin
from adesso.channels.base import ChannelKind
from adesso.channels.models import PENDING_STATES, Channel, EventState, InboundEvent
from adesso.channels.registry import KINDS, get_kind, webhook_urls
from adesso.channels.secrets import get_path, mask
from adesso.front.views.common import AgentRequest
from adesso.lib.errors import ActionError

# The quarantine lists this many events, newest first.
QUARANTINE_SHOWN = 50


def _connectable() -> list[ChannelKind]:
    """The kinds an admin can connect here: those with a configuration form."""
    return [get_kind(k) for k in KINDS if get_kind(k).config_form]


def _stats(org_id: int) -> dict[int, dict[str, Any]]:
    """Per channel: the last event received, events waiting, failures (retrying and
    quarantined), in one query."""
    rows = (
        InboundEvent.objects.filter(organization_id=org_id)
        .values("channel_id")
        .annotate(
            last=Max("received_at"),
            waiting=Count("pk", filter=Q(state__in=PENDING_STATES)),
            failing=Count("pk", filter=Q(state=EventState.FAILED)),
            quarantined=Count("pk", filter=Q(state=EventState.QUARANTINED)),
        )
    )
    return {r["channel_id"]: dict(r) for r in rows}


@login_required
@admin_only
def channels(request: AgentRequest) -> HttpResponse:
    admin = request.user
    require_admin(admin)
    stats = _stats(admin.organization_id)
    rows = []
    for channel in Channel.objects.filter(organization_id=admin.organization_id).order_by("name", "pk"):
        try:
            kind: ChannelKind | None = get_kind(channel.kind)
        except KeyError:
            kind = None
        rows.append(
            {
                "channel": channel,
                "editable": bool(kind and kind.config_form),
                "stats": stats.get(channel.pk, {}),
                "inbound_url": channel.inbound_url,
                "webhook_urls": sorted((webhook_urls(channel) or {}).items()),
            }
        )
    quarantined = (
        InboundEvent.objects.filter(organization_id=admin.organization_id, state=EventState.QUARANTINED)
        .select_related("channel")
        .order_by("-received_at", "-pk")[:QUARANTINE_SHOWN]
    )
    connectable = _connectable()
    return render(
        request,
        "front/channels.html",
        {
            "rows": rows,
            "quarantined": quarantined,
            "kinds": connectable,
            "api_only": [get_kind(k).label for k in KINDS if get_kind(k) not in connectable],
            "nav": "channels",
        },
    )


def _secret_path(form: forms.Form, name: str) -> tuple[str, ...]:
    """Where a form's secret field is kept in the config (a form may say, for nested ones)."""
    paths: dict[str, tuple[str, ...]] = getattr(form, "secret_paths", {})
    return paths.get(name, (name,))


def _kind_form(kind: ChannelKind, data: Any = None, channel: Channel | None = None) -> forms.Form:
    """The kind's own configuration form. Editing, its secret fields (password inputs) are
    optional and show only whether they are set ("••••1234"): left empty, they keep the
    stored secret."""
    form_class = import_string(kind.config_form)
    initial: dict[str, Any] = {}
    if channel is not None:
        # A form may say how its fields come from a stored config (nested settings).
        initial_from = getattr(form_class, "initial_from", None)
        initial = (
            initial_from(channel.config)
            if initial_from
            else {k: v for k, v in channel.config.items() if not isinstance(v, dict | list)}
        )
    form: forms.Form = form_class(data=data, initial=initial)
    for name, field in form.fields.items():
        if isinstance(field.widget, forms.PasswordInput):
            field.widget.attrs["autocomplete"] = "new-password"
            if channel is not None:
                field.required = False
                shown = mask(get_path(channel.config, _secret_path(form, name)))
                field.widget.attrs["placeholder"] = shown or _("not set")
                field.help_text = (
                    _("Set (%(mask)s). Leave empty to keep it.") % {"mask": shown} if shown else _("Not set.")
                )
    return form


def _kind_or_404(name: str) -> ChannelKind:
    if name not in KINDS or not get_kind(name).config_form:
        raise Http404("No such kind")
    return get_kind(name)


@login_required
@admin_only
def connect(request: AgentRequest, kind_name: str) -> HttpResponse:
    """Connect a new channel of one kind with the kind's form."""
    admin = request.user
    require_admin(admin)
    kind = _kind_or_404(kind_name)
    form = _kind_form(kind, request.POST if request.method == "POST" else None)
    name = request.POST.get("name", "").strip()
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            if not name:
                raise ActionError(_("The name is empty."), "invalid_name")
            channel, token = actions.do_create_channel(admin.organization, kind.kind, name, form.config())  # type: ignore[attr-defined]
        except ActionError as exc:
            error = exc.message
        else:
            messages.success(request, _("Channel %(name)s connected.") % {"name": channel.name})
            once = kind.shown_once(channel, token)
            if once:
                # Rendered, not redirected: these are never stored anywhere they could be shown again.
                return render(
                    request,
                    "front/channel_connected.html",
                    {"channel": channel, "once": sorted(once.items()), "nav": "channels"},
                )
            return HttpResponseRedirect(reverse("front:channels") + f"#channel-{channel.code}")
    return render(
        request,
        "front/channel_form.html",
        {
            "kind": kind,
            "form": form,
            "fragment": kind.config_template(),
            "name": name,
            "error": error,
            "nav": "channels",
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@admin_only
def edit(request: AgentRequest, code: str) -> HttpResponse:
    """Edit a channel's name and configuration; secrets left empty stay as they are."""
    channel = access_channel_for_admin(request.user, code)
    try:
        kind = get_kind(channel.kind)
    except KeyError:
        raise Http404("Unknown kind") from None
    if not kind.config_form:
        raise Http404("This kind has no form")
    form = _kind_form(kind, request.POST if request.method == "POST" else None, channel)
    name = request.POST.get("name", channel.name).strip() if request.method == "POST" else channel.name
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_update_channel(channel, name, form.config())  # type: ignore[attr-defined]
        except ActionError as exc:
            error = exc.message
        else:
            messages.success(request, _("Channel %(name)s saved.") % {"name": channel.name})
            return HttpResponseRedirect(reverse("front:channels") + f"#channel-{channel.code}")
    return render(
        request,
        "front/channel_form.html",
        {
            "kind": kind,
            "form": form,
            "fragment": kind.config_template(),
            "name": name,
            "error": error,
            "channel": channel,
            "nav": "channels",
        },
        status=400 if request.method == "POST" else 200,
    )


def _back(channel: Channel) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("front:channels") + f"#channel-{channel.code}")


@login_required
@admin_only
@require_POST
def set_enabled(request: AgentRequest, code: str) -> HttpResponse:
    """`enabled=1` enables the channel again, anything else disables it."""
    channel = access_channel_for_admin(request.user, code)
    enabled = request.POST.get("enabled") == "1"
    actions.do_set_channel_enabled(request.user, channel, enabled)
    if enabled:
        messages.success(request, _("Channel %(name)s enabled.") % {"name": channel.name})
    else:
        messages.success(
            request,
            _("Channel %(name)s disabled: nothing is received or sent on it until you enable it.")
            % {"name": channel.name},
        )
    return _back(channel)


@login_required
@admin_only
@require_POST
def test(request: AgentRequest, code: str) -> HttpResponse:
    """The kind's test of the channel (Telegram: getMe), its answer shown to the admin."""
    channel = access_channel_for_admin(request.user, code)
    try:
        said = actions.do_test_channel(channel)
    except ActionError as exc:
        messages.error(request, _("Test of %(name)s failed: %(error)s") % {"name": channel.name, "error": exc.message})
    else:
        messages.success(request, _("Test of %(name)s passed: %(said)s") % {"name": channel.name, "said": said})
    return _back(channel)


@login_required
@admin_only
@require_POST
def replay(request: AgentRequest, code: str, event: str) -> HttpResponse:
    """Put a quarantined event back in the queue (pipeline: do_replay_event)."""
    found = access_event_for_admin(request.user, code, event)
    try:
        actions.do_replay_event(found)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Event %(event)s is back in the queue.") % {"event": found.external_id})
    return HttpResponseRedirect(reverse("front:channels") + "#quarantine")
