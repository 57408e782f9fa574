"""Plain builder functions and a few named personas: no fixture webs."""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass
from typing import Any

from django.test import Client

from adesso.accounts.actions import do_create_agent, do_create_api_token, do_create_team
from adesso.accounts.models import Organization, Role, User
from adesso.channels.actions import do_create_channel
from adesso.channels.models import Channel

_seq = itertools.count(1)


def make_org(
    name: str = "Pasticceria Rossi", sla: bool = True, ack: bool = False, auto_assign: bool = False,
    surveys: bool = False,
) -> Organization:
    """An organisation as `createorg` makes it: with the default 60-minute, 24/7 policy.
    Acknowledgements are on for new organisations; tests about other things turn them
    off (ack=False) so that the messages they count are their own; routing likewise."""
    org = Organization.objects.create(
        name=f"{name} {next(_seq)}", acknowledge=ack, auto_assign=auto_assign
    )
    if not surveys:
        # Surveys after every resolution are on for new organisations; tests about
        # other things turn them off, like acknowledgements.
        from adesso.surveys.models import SurveySettings

        SurveySettings.objects.create(organization=org, enabled=False)
    if sla:
        from adesso.sla.actions import do_create_default_policy

        do_create_default_policy(org)
    return org


def make_agent(
    org: Organization, name: str = "Giulia", role: str = Role.AGENT, language: str = "it"
) -> User:
    n = next(_seq)
    return do_create_agent(org, f"{name.lower()}{n}@example.com", name=name, role=role,
                           language=language, password="correct-horse-battery")


@dataclass
class ApiChannel:
    channel: Channel
    token: str

    @property
    def url(self) -> str:
        return f"/api/v1/inbound/{self.channel.code}"


def make_api_channel(org: Organization, name: str = "Sito web") -> ApiChannel:
    channel, token = do_create_channel(org, "api", name)
    return ApiChannel(channel, token)


def inbound_payload(
    external_id: str | None = None, sender_id: str = "cust-1", text: str = "Buongiorno, il mio ordine?",
    **extra: Any,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "external_id": external_id or f"msg-{next(_seq)}",
        "sender": {"external_id": sender_id, "name": "Mario Bianchi"},
        "text": text,
    }
    sender_extra = extra.pop("sender", None)
    if sender_extra:
        payload["sender"].update(sender_extra)
    payload.update(extra)
    return payload


def post_inbound(client: Client, ch: ApiChannel, payload: Any, token: str | None = None) -> Any:
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return client.post(
        ch.url, body, content_type="application/json",
        headers={"Authorization": f"Bearer {token or ch.token}"},
    )


class AgentApi:
    """An agent's view of the REST API, with their personal token."""

    def __init__(self, agent: User) -> None:
        self.agent = agent
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {do_create_api_token(agent)}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path: str, data: Any = None) -> Any:
        return self.client.post(f"/api/v1{path}", json.dumps(data or {}),
                                content_type="application/json", headers=self.headers)

    def patch(self, path: str, data: Any) -> Any:
        return self.client.patch(f"/api/v1{path}", json.dumps(data),
                                 content_type="application/json", headers=self.headers)

    def send(self, method: str, path: str, body: bytes | str = b"",
             content_type: str = "application/json") -> Any:
        """Any method with a raw body, for input no well-behaved client would send."""
        return self.client.generic(method.upper(), f"/api/v1{path}", body,
                                   content_type=content_type, headers=self.headers)


def make_team(org: Organization, name: str, members: list[User]) -> Any:
    return do_create_team(org, name, members)


def customer_writes(ch: ApiChannel, text: str = "Buongiorno, il mio ordine?",
                    sender_id: str = "cust-1", **extra: Any) -> dict[str, Any]:
    """A customer's message through the channel's inbound endpoint, processed by the
    pipeline's worker; returns its 202 body with the event's state (`conversation`...)."""
    return receive_inbound(Client(), ch, inbound_payload(sender_id=sender_id, text=text, **extra))


def receive_inbound(client: Client, ch: ApiChannel, payload: Any) -> dict[str, Any]:
    """Post to the inbound endpoint (202: stored), run the worker as the task queue would,
    and read back what became of the event: the 202 body with `state` and `conversation`."""
    from adesso.channels.pipeline import do_process_events

    r = post_inbound(client, ch, payload)
    assert r.status_code == 202, r.content
    accepted = r.json()
    do_process_events()
    status = client.get(f"{ch.url}/events/{accepted['event']}", headers={"Authorization": f"Bearer {ch.token}"})
    assert status.status_code == 200, status.content
    assert status.json()["state"] == "processed", status.json()
    return {**accepted, **status.json()}


def attachment(filename: str = "scontrino.txt", content: bytes = b"totale 12,50",
               content_type: str = "text/plain") -> dict[str, str]:
    return {"filename": filename, "content_type": content_type,
            "content_base64": base64.b64encode(content).decode()}
