"""A demo organisation to look around in: agents, teams, channels, conversations.

Idempotent: the organisation is created once; each run gives the admin a new
password and the demo channel a new token, and prints both.
"""

import datetime as dt
import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from adesso.accounts.actions import do_create_agent, do_create_organization, do_create_team
from adesso.accounts.models import Organization, Presence, Role, User
from adesso.channels.actions import do_create_channel
from adesso.channels.base import InboundMessage, InboundSender
from adesso.channels.models import Channel
from adesso.conversations.actions import do_assign, do_change_status, do_receive_message, do_send_reply
from adesso.conversations.models import Conversation, Message
from adesso.lib.codes import hash_secret, new_secret
from adesso.routing.actions import do_set_presence
from adesso.sla import engine as sla

ORG_NAME = "Pasticceria Dolce Vita"
ADMIN_EMAIL = "admin@dolcevita.example"

# (channel index, sender id, name, email, phone, minutes ago, text)
CUSTOMERS: list[tuple[int, str, str, str, str, int, str]] = [
    (0, "c-1001", "Mario Bianchi", "mario.bianchi@example.com", "", 95,
     "Buongiorno, ho ordinato una torta per sabato ma non ho ricevuto la conferma. Potete aiutarmi?"),
    (1, "app-77", "Mario Bianchi", "", "+39 333 123 4567", 40,
     "Scusate, vi scrivo anche dall'app: la torta di sabato è confermata?"),
    (0, "c-1002", "Laura Verdi", "laura.verdi@example.com", "", 25,
     "Vorrei un rimborso: il panettone è arrivato schiacciato."),
    (0, "c-1003", "John Smith", "john.smith@example.com", "", 12,
     "Hello, do you ship to London before Christmas?"),
    (1, "app-91", "Giorgia Neri", "", "+39 347 555 0101", 6,
     "Avete dolci senza glutine? Mia figlia è celiaca."),
    (0, "c-1004", "Paolo Russo", "paolo.russo@example.com", "", 3,
     "Il sito non accetta il codice sconto NATALE10."),
]


class Command(BaseCommand):
    help = "Load (once) the demo organisation and print how to log in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, quiet: bool, **options: Any) -> None:
        org = Organization.objects.filter(name=ORG_NAME).first()
        if org is None:
            org = self.create()
        password = secrets.token_urlsafe(9)
        admin = User.objects.get(email=ADMIN_EMAIL)
        admin.set_password(password)
        admin.save(update_fields=["password"])
        channel = Channel.objects.filter(organization=org, kind="api").order_by("pk").first()
        token = "ach_" + new_secret()
        if channel is not None:
            channel.token_hash = hash_secret(token)
            channel.save(update_fields=["token_hash"])
        if quiet:
            return
        self.stdout.write("")
        self.stdout.write(f"  Adesso demo: {org.name}")
        self.stdout.write("  Open http://127.0.0.1:8000 and log in as")
        self.stdout.write(f"    email:    {ADMIN_EMAIL}")
        self.stdout.write(f"    password: {password}")
        if channel is not None:
            self.stdout.write(f"  Demo API channel {channel.name!r}: POST /api/v1/inbound/{channel.code}")
            self.stdout.write(f"    with header Authorization: Bearer {token}")
        self.stdout.write("")

    @transaction.atomic
    def create(self) -> Organization:
        admin, _ = do_create_organization(ORG_NAME, ADMIN_EMAIL, "Francesca Conti")
        org = admin.organization
        giulia = do_create_agent(org, "giulia@dolcevita.example", "Giulia Romano")
        marco = do_create_agent(org, "marco@dolcevita.example", "Marco Ferri")
        sarah = do_create_agent(org, "sarah@dolcevita.example", "Sarah Miller", role=Role.SUPERVISOR,
                                language="en")
        for agent in (giulia, marco, sarah):
            agent.set_unusable_password()
            agent.save(update_fields=["password"])
        care = do_create_team(org, "Assistenza clienti", [giulia, marco, sarah])
        do_create_team(org, "Ordini e spedizioni", [marco, admin])
        web, _ = do_create_channel(org, "api", "Sito web")
        app, _ = do_create_channel(org, "api", "App mobile")
        channels = [web, app]
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
        laura = received[2]
        do_assign(admin, laura, giulia, care)
        do_send_reply(giulia, laura, "Ciao Laura, ci dispiace molto! Ti rimborsiamo subito il panettone: "
                      "riceverai l'accredito entro 3 giorni lavorativi.")
        do_assign(giulia, laura, marco, care,
                  note="Rimborso avviato da me; Marco verifica con il corriere il danno al pacco.")
        john = received[3]
        do_send_reply(sarah, john, "Hi John, yes: orders placed by 18 December arrive in London "
                      "before Christmas. Shall I help you place one?")
        do_change_status(sarah, john, "resolved")
        do_send_reply(marco, received[4], "Internal: check the gluten-free list with the lab",
                      internal=True)
        # Giulia and Marco are at work: once this commits, routing hands them the queue.
        for agent in (giulia, marco):
            do_set_presence(agent, Presence.ONLINE)
        return org
