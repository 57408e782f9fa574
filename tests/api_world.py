"""One organisation with one of everything the API names in a path, built through the
public interfaces; the generated tests fill path parameters from it.

Alice is the admin, Giulia an agent of the same organisation. `codes` maps the path
segment before a parameter (`/teams/{code}` -> "teams") to a real value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adesso.accounts.actions import do_invite_agent
from adesso.accounts.models import Organization, Role, User
from adesso.canned.actions import do_save as do_save_canned
from adesso.channels.models import InboundEvent
from adesso.coach.actions import do_save_rule
from adesso.conversations.models import Attachment
from adesso.notifications.models import Notification
from tests.builders import AgentApi, ApiChannel, customer_writes, make_agent, make_api_channel, make_org, make_team


@dataclass
class World:
    org: Organization
    alice: AgentApi  # admin
    giulia: AgentApi  # agent
    channel: ApiChannel
    codes: dict[str, str] = field(default_factory=dict)

    def value_for(self, path: str, name: str) -> str | None:
        """A real value for the parameter `{name}` of `path`, from the segment before it."""
        segments = path.split("/")
        index = segments.index("{" + name + "}")
        before = segments[index - 1]
        if before.startswith("{"):  # /autoreplies/{purpose}/{language}
            return self.codes.get(name)
        return self.codes.get(before)


def build_world(name: str = "Pasticceria Rossi", customer: str = "Mario Bianchi", word: str = "ordine") -> World:
    """`customer` writes first, with `word` in the message: text only this world holds."""
    org = make_org(name)
    alice = AgentApi(make_agent(org, "Alice", role=Role.ADMIN))
    giulia = AgentApi(make_agent(org, "Giulia"))
    # A second admin, so that deactivating or demoting one is not refused as the last.
    make_agent(org, "Marco", role=Role.ADMIN)
    channel = make_api_channel(org, "Sito")
    email = customer.split()[0].lower() + "@example.com"
    first = customer_writes(channel, f"Buongiorno, il mio {word}?", sender_id="c-1",
                            sender={"name": customer, "email": email})
    second = customer_writes(channel, "Salve", sender_id="c-2", sender={"name": "Anna Verdi"})
    conversation = first["conversation"]
    contact = alice.get(f"/conversations/{conversation}").json()["contact"]["code"]
    other = alice.get(f"/conversations/{second['conversation']}").json()["contact"]["code"]
    merge = alice.post(f"/contacts/{other}/merge", {"into": contact}).json()["merge"]
    team = make_team(org, "Cassa", [giulia.agent])
    alice.post(f"/conversations/{conversation}/assign", {"assignee": giulia.agent.code, "team": team.code})
    canned = do_save_canned(alice.agent, None, shortcut="saluti", title="Saluti", language="it",
                            body="Buongiorno {contact_first_name}", shared=True)
    rule = do_save_rule(
        alice.agent, None, {"pattern": "ritardo", "language": "it", "phrases": ["in ritardo"], "reason": "Vago"}
    )
    invitation, _ = do_invite_agent(alice.agent, "nuovo@example.com", "Nuovo")
    codes = {
        "conversations": conversation,
        "contacts": contact,
        "merges": str(merge),
        "teams": team.code,
        "agents": giulia.agent.code,
        "invitations": invitation.code,
        "canned-replies": canned.code,
        "channels": channel.channel.code,
        "inbound": channel.channel.code,
        "rules": rule.code,
        "autoreplies": "ack",
        "purpose": "ack",
        "language": "it",
        "messages": first["message"],
    }
    event = InboundEvent.objects.filter(channel=channel.channel).first()
    if event is not None:
        codes["events"] = event.code
    notification = Notification.objects.filter(organization=org).first()
    if notification is not None:
        codes["notifications"] = str(notification.pk)
    attachment = Attachment.objects.filter(organization=org).first()
    if attachment is not None:
        codes["attachments"] = attachment.code
    return World(org=org, alice=alice, giulia=giulia, channel=channel, codes=codes)


def agent_of(world: World) -> User:
    return world.giulia.agent


def headers_for(world: World, operation: dict[str, Any]) -> dict[str, str]:
    """The token an operation's security names: the channel's or Alice's."""
    if {"ChannelToken": []} in operation.get("security", []):
        return {"Authorization": f"Bearer {world.channel.token}"}
    return dict(world.alice.headers)
