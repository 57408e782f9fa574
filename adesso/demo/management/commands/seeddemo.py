"""A demo organisation a team can try together: agents, teams, four channels, four
weeks of Italian and English traffic, and a few customers waiting right now.

Idempotent: the organisation and its history are created once; each run gives every
demo agent a new password and the demo API channel a new token, and prints them.
The logins are printed one a line as `email password` (what `make run` shows).
"""

import datetime as dt
import time
from typing import Any

import time_machine
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from adesso.accounts.actions import do_create_agent, do_create_organization, do_create_team
from adesso.accounts.cached import forget
from adesso.accounts.models import Organization, Presence, Role, User
from adesso.canned.demo import seed_workspace
from adesso.channels.actions import do_create_channel
from adesso.channels.base import InboundMessage, InboundSender
from adesso.channels.models import Channel
from adesso.conversations.actions import do_assign, do_change_status, do_send_reply
from adesso.conversations.models import Conversation, Message
from adesso.demo.history import play
from adesso.intake.actions import do_receive_message
from adesso.lib.codes import hash_secret, new_code, new_secret
from adesso.routing.actions import do_set_presence, do_update_routing
from adesso.sla import engine as sla

ORG_NAME = "Pasticceria Dolce Vita"
ADMIN_EMAIL = "admin@dolcevita.example"
# While the demo loads, its admin has this address; the real one is given in the last
# transaction. A marker outside the name: the history's automatic messages (surveys,
# acknowledgements) say the shop's name, and a "(loading)" in it stayed in them.
LOADING_EMAIL = "loading.admin@dolcevita.example"
LOADING_NAME = f"{ORG_NAME} (loading)"  # the marker of loads before session 10
# (email, name, role, language): the admin first.
AGENTS = [
    (ADMIN_EMAIL, "Francesca Conti", Role.ADMIN, "it"),
    ("giulia@dolcevita.example", "Giulia Romano", Role.AGENT, "it"),
    ("marco@dolcevita.example", "Marco Ferri", Role.AGENT, "it"),
    ("sarah@dolcevita.example", "Sarah Miller", Role.SUPERVISOR, "en"),
]
HISTORY_WEEKS = 4

# (channel index, sender id, name, email, phone, minutes ago, text)
CUSTOMERS: list[tuple[int, str, str, str, str, int, str]] = [
    (
        0,
        "c-1001",
        "Mario Bianchi",
        "mario.bianchi@example.com",
        "",
        95,
        "Buongiorno, ho ordinato una torta per sabato ma non ho ricevuto la conferma. Potete aiutarmi?",
    ),
    (
        1,
        "app-77",
        "Mario Bianchi",
        "",
        "+39 333 123 4567",
        40,
        "Scusate, vi scrivo anche dall'app: la torta di sabato è confermata?",
    ),
    (
        0,
        "c-1002",
        "Laura Verdi",
        "laura.verdi@example.com",
        "",
        25,
        "Vorrei un rimborso: il panettone è arrivato schiacciato.",
    ),
    (0, "c-1003", "John Smith", "john.smith@example.com", "", 12, "Hello, do you ship to London before Christmas?"),
    (1, "app-91", "Giorgia Neri", "", "+39 347 555 0101", 6, "Avete dolci senza glutine? Mia figlia è celiaca."),
    (0, "c-1004", "Paolo Russo", "paolo.russo@example.com", "", 3, "Il sito non accetta il codice sconto NATALE10."),
]


def discard_unfinished() -> None:
    """Remove a demo whose loading was cut short, so that it loads again from the start."""
    unfinished = Organization.objects.filter(Q(name=LOADING_NAME) | Q(agents__email=LOADING_EMAIL)).distinct()
    for org in unfinished:
        with transaction.atomic():
            # Conversations first: they protect the channels and contacts.
            Conversation.objects.filter(organization=org).delete()
            org.delete()


class Command(BaseCommand):
    help = "Load (once) the demo organisation and print every demo login as `email password`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, quiet: bool, **options: Any) -> None:
        org = Organization.objects.filter(name=ORG_NAME).exclude(agents__email=LOADING_EMAIL).first()
        if org is None:
            started = time.monotonic()
            discard_unfinished()
            org = self.create()
            if not quiet:
                total = Conversation.objects.filter(organization=org).count()
                self.stdout.write(
                    f"Demo organisation {org.name!r} created in {time.monotonic() - started:.1f} s: "
                    f"{HISTORY_WEEKS} weeks, {total} conversations"
                )
        logins = []
        for email, *_rest in AGENTS:
            agent = User.objects.filter(organization=org, email=email).first()
            if agent is None or not agent.is_active:
                continue
            password = new_code(12)  # easy to read and type: no look-alike characters
            agent.set_password(password)
            agent.save(update_fields=["password"])
            logins.append(f"{email} {password}")
        channel = Channel.objects.filter(organization=org, kind="api").order_by("pk").first()
        token = "ach_" + new_secret()
        if channel is not None:
            channel.token_hash = hash_secret(token)
            channel.save(update_fields=["token_hash"])
        if quiet:
            return
        self.stdout.write(f"Adesso demo: {org.name}. Log in with (email password):")
        for line in logins:
            self.stdout.write(line)
        if channel is not None:
            self.stdout.write(
                f"Demo API channel {channel.name!r}: POST /api/v1/inbound/{channel.code} "
                f"with header 'Authorization: Bearer {token}'"
            )

    def create(self) -> Organization:
        now = timezone.now()
        # The shop opened its Adesso account just before the history starts.
        with time_machine.travel(now - dt.timedelta(weeks=HISTORY_WEEKS, days=2), tick=False), transaction.atomic():
            org, agents, channels = self.create_organization()
        play(channels, agents, now=now, weeks=HISTORY_WEEKS)
        with transaction.atomic():
            # The admin's address given in the last transaction: a load cut short (Ctrl-C)
            # keeps the loading one, and the next run loads the demo again from the start.
            User.objects.filter(pk=agents["admin"].pk).update(email=ADMIN_EMAIL)
            agents["admin"].email = ADMIN_EMAIL
            forget(org.pk)
            self.create_live(org, agents, channels)
        return org

    def create_organization(self) -> tuple[Organization, dict[str, User], list[Channel]]:
        admin, _ = do_create_organization(ORG_NAME, LOADING_EMAIL, AGENTS[0][1])
        org = admin.organization
        agents = {"admin": admin}
        for email, name, role, language in AGENTS[1:]:
            agent = do_create_agent(org, email, name, role=role, language=language)
            agents[email.split("@")[0]] = agent
        do_update_routing(admin, agents["sarah"], languages=["en", "it"])
        # The owner answers too, but runs the shop: three conversations at a time.
        do_update_routing(admin, admin, capacity=3)
        do_create_team(org, "Assistenza clienti", [agents["giulia"], agents["marco"], agents["sarah"]])
        do_create_team(org, "Ordini e spedizioni", [agents["marco"], admin])
        web, _ = do_create_channel(org, "api", "Sito web")
        app, _ = do_create_channel(org, "api", "App mobile")
        whatsapp, _ = do_create_channel(org, "api", "WhatsApp (API)")
        # An email address with no mailbox to read: the history's mail, no IMAP needed.
        mail, _ = do_create_channel(
            org,
            "email",
            "Email",
            {
                "address": "assistenza@dolcevita.example",
                "from_name": "Pasticceria Dolce Vita",
            },
        )
        return org, agents, [web, app, whatsapp, mail]

    def create_live(self, org: Organization, agents: dict[str, User], channels: list[Channel]) -> None:
        """Customers writing right now, and the team as a newcomer finds it: the admin
        online (the person trying the demo), everyone else offline."""
        admin, giulia, marco, sarah = (agents[k] for k in ("admin", "giulia", "marco", "sarah"))
        for key in ("giulia", "marco", "sarah"):
            do_set_presence(User.objects.get(pk=agents[key].pk), Presence.OFFLINE)
        now = timezone.now()
        received = []
        for index, (ch, sender_id, name, email, phone, minutes, text) in enumerate(CUSTOMERS):
            inbound = InboundMessage(
                external_id=f"demo-{index}",
                sender=InboundSender(sender_id, name=name, email=email, phone=phone),
                text=text,
            )
            got = do_receive_message(channels[ch], inbound)
            at = now - dt.timedelta(minutes=minutes)
            Message.objects.filter(pk=got.message.pk).update(created_at=at)
            Conversation.objects.filter(pk=got.conversation.pk).update(
                created_at=at, updated_at=at, waiting_since=at, last_customer_message_at=at
            )
            got.conversation.refresh_from_db()
            # The SLA clocks start when the customer wrote, as they would have.
            got.conversation.sla_state = {}
            got.conversation.save(update_fields=["sla_state", *sla.refresh(got.conversation, at, reselect=True)])
            received.append(got.conversation)
        # Mario wrote from the web site (email) and from the app (phone): one person.
        from adesso.contacts.actions import do_merge_contacts

        if received[1].contact_id != received[0].contact_id:
            do_merge_contacts(admin, received[1].contact, received[0].contact)
        care = org.teams.get(name="Assistenza clienti")
        laura = received[2]
        do_assign(admin, laura, giulia, care)
        do_send_reply(
            giulia,
            laura,
            "Ciao Laura, ci dispiace molto! Ti rimborsiamo subito il panettone: "
            "riceverai l'accredito entro 3 giorni lavorativi.",
        )
        do_assign(
            giulia, laura, marco, care, note="Rimborso avviato da me; Marco verifica con il corriere il danno al pacco."
        )
        john = received[3]
        do_send_reply(
            sarah,
            john,
            "Hi John, yes: orders placed by 18 December arrive in London before Christmas. Shall I help you place one?",
        )
        do_change_status(sarah, john, "resolved")
        do_send_reply(marco, received[4], "Internal: check the gluten-free list with the lab", internal=True)
        seed_workspace(admin, received)  # canned replies to type with /, tags to filter by
        # The admin is at work: once this commits, routing hands them the queue (up to
        # their capacity); the rest stays in "Unassigned" for the team to pick up.
        do_set_presence(User.objects.get(pk=admin.pk), Presence.ONLINE)
