"""Topics of criticism and praise: found in first customer messages, stable from one
run to the next, renamable and mergeable by a supervisor, new messages filed as they
come; the API refuses agents and other organisations."""

from __future__ import annotations

import pytest

from adesso.accounts.models import Role
from adesso.insights.analyse import analyse_batch
from adesso.insights.models import MessageSentiment, Topic
from adesso.insights.topics import do_find_topics
from tests.builders import AgentApi, customer_writes, make_agent, make_api_channel, make_org

pytestmark = pytest.mark.django_db

# Three complaints and one praise, each told by different customers in their own words.
LATE = [
    "Il pacco doveva arrivare lunedì e siamo a venerdì, la consegna è in ritardo.",
    "Consegna in ritardo di una settimana, il corriere non si è visto.",
    "Ancora nessuna consegna, l'ordine è in ritardo da giorni.",
    "La spedizione è in ritardo e il tracciamento è fermo.",
    "Il corriere ha rimandato la consegna per la terza volta, che ritardo.",
    "Ordine in ritardo, la consegna promessa per ieri non è arrivata.",
    "My parcel is a week late and the courier never showed up.",
    "The delivery is late again, tracking hasn't moved in days.",
]
BROKEN = [
    "La macchina del caffè si è rotta dopo due giorni di uso.",
    "Il frullatore è arrivato rotto, la caraffa è crepata.",
    "Il tostapane si è rotto subito, non scalda più.",
    "Prodotto difettoso: il bollitore perde acqua ed è rotto.",
    "The coffee machine broke after two days.",
    "The blender arrived broken with a cracked jug.",
    "My kettle is faulty and leaks, it broke on day one.",
    "Il ferro da stiro è rotto, non si accende più.",
]
BILLING = [
    "In fattura mi avete addebitato due volte lo stesso ordine.",
    "Addebito doppio sulla carta di credito, rivoglio i soldi.",
    "La fattura è sbagliata, l'importo addebitato è il doppio.",
    "Mi avete addebitato un costo che non avevo accettato in fattura.",
    "I was charged twice for the same order on my card.",
    "The invoice is wrong, you billed me double.",
    "There is an extra charge on my bill I never agreed to.",
    "Pagamento addebitato due volte, la fattura non torna.",
]
PRAISE = [
    "Grazie a Marta dell'assistenza, gentilissima e velocissima!",
    "L'operatrice è stata gentilissima e mi ha aiutato subito, grazie.",
    "Servizio clienti fantastico, persone gentili e preparate.",
    "Complimenti all'assistenza, risposta gentile e rapida.",
    "Your support agent was so kind and helpful, thank you!",
    "Great customer service, friendly and quick, thanks a lot.",
    "Thanks to the support team, lovely people and fast help.",
    "Assistenza gentile e competente, davvero grazie.",
]


def _shop():
    org = make_org("Casalinghi Ferri")
    ch = make_api_channel(org)
    for theme, texts in (("late", LATE), ("broken", BROKEN), ("billing", BILLING), ("praise", PRAISE)):
        for i, text in enumerate(texts):
            customer_writes(ch, text, sender_id=f"{theme}-{i}")
    while analyse_batch()[0]:
        pass
    return org, ch


def _topic_of(org):
    rows = MessageSentiment.objects.filter(organization=org, first=True).select_related("message", "topic")
    return {r.message.text: (r.topic.code if r.topic else None) for r in rows}


def test_topics_are_found_named_and_stable():
    org, _ = _shop()
    assert MessageSentiment.objects.filter(organization=org, first=True).count() == 32
    counts = do_find_topics(org, k=3)
    assert counts["negative"] >= 2 and counts["positive"] >= 1
    first = _topic_of(org)
    # Each complaint's messages mostly share one topic, and the topics differ.
    majority = {}
    for name, texts in (("late", LATE), ("broken", BROKEN), ("billing", BILLING)):
        codes = [first[t] for t in texts if first.get(t)]
        best = max(set(codes), key=codes.count)
        assert codes.count(best) >= 6, (name, codes)
        majority[name] = best
    assert len(set(majority.values())) == 3
    late = Topic.objects.get(code=majority["late"])
    assert {"consegna", "ritardo"} & set(late.keywords) or {"late", "delivery"} & set(late.keywords), late.keywords
    # The same messages give the same topics, under the same codes.
    do_find_topics(org, k=3)
    assert _topic_of(org) == first


def test_a_name_given_and_a_merge_made_survive_the_next_run():
    org, _ = _shop()
    do_find_topics(org, k=3)
    sara = AgentApi(make_agent(org, "Sara", role=Role.SUPERVISOR))
    negative = sara.get("/insights/topics", polarity="negative").json()
    assert len(negative) == 3 and all(t["quotes"] and t["keywords"] for t in negative)
    a, b, c = (t["code"] for t in negative)
    r = sara.patch(f"/insights/topics/{a}", {"name": "Consegne in ritardo"})
    assert r.status_code == 200 and r.json()["name"] == "Consegne in ritardo"
    r = sara.post(f"/insights/topics/{c}/merge", {"into": b})
    assert r.status_code == 200, r.content
    merged_size = r.json()["messages"]
    do_find_topics(org, k=3)
    after = {t["code"]: t for t in sara.get("/insights/topics", polarity="negative").json()}
    assert after[a]["name"] == "Consegne in ritardo"
    assert c not in after and after[b]["messages"] == merged_size


def test_a_new_message_joins_its_topic_as_it_arrives():
    org, ch = _shop()
    do_find_topics(org, k=3)
    late_topic = MessageSentiment.objects.get(message__text=LATE[1]).topic
    text = "La consegna del mio ordine è in ritardo di cinque giorni, il corriere non arriva."
    customer_writes(ch, text, sender_id="new")
    analyse_batch()
    assert MessageSentiment.objects.get(message__text__startswith="La consegna del mio").topic == late_topic


def test_agents_and_other_organisations_are_refused():
    org, _ = _shop()
    do_find_topics(org, k=3)
    code = Topic.objects.filter(organization=org).first().code
    rita = AgentApi(make_agent(org, "Rita"))
    assert rita.get("/insights/topics").status_code == 403
    assert rita.patch(f"/insights/topics/{code}", {"name": "x"}).status_code == 403
    other = AgentApi(make_agent(make_org("Altro Negozio"), "Olga", role=Role.ADMIN))
    assert other.get("/insights/topics").json() == []
    assert other.patch(f"/insights/topics/{code}", {"name": "x"}).status_code == 404
    assert other.post(f"/insights/topics/{code}/merge", {"into": code}).status_code == 404


def test_bad_changes_get_clear_errors():
    org, _ = _shop()
    do_find_topics(org, k=3)
    sara = AgentApi(make_agent(org, "Sara", role=Role.SUPERVISOR))
    negative = Topic.objects.filter(organization=org, polarity="negative").first()
    positive = Topic.objects.filter(organization=org, polarity="positive").first()
    assert sara.patch(f"/insights/topics/{negative.code}", {"name": ""}).status_code == 422
    assert sara.patch(f"/insights/topics/{negative.code}", {"name": 5}).status_code == 422
    r = sara.post(f"/insights/topics/{negative.code}/merge", {"into": positive.code})
    assert r.status_code == 400 and "merged" in r.json()["message"]
    assert sara.post(f"/insights/topics/{negative.code}/merge", {"into": negative.code}).status_code == 400


def test_quotes_hide_the_personal_data_the_admins_chose():
    from adesso.privacy.models import privacy_of

    org = make_org("Casalinghi Ferri")
    ch = make_api_channel(org)
    for i, text in enumerate(LATE[:6] + BROKEN[:6]):
        customer_writes(ch, f"{text} Scrivetemi a cliente{i}@example.com o al 347 123 456{i}.", sender_id=f"c{i}")
    while analyse_batch()[0]:
        pass
    do_find_topics(org, k=2)
    sara = AgentApi(make_agent(org, "Sara", role=Role.SUPERVISOR))

    def quoted() -> str:
        return " ".join(q["text"] for t in sara.get("/insights/topics").json() for q in t["quotes"])

    assert "@example.com" in quoted() and "347 123 456" in quoted()
    settings = privacy_of(org.pk)
    settings.redact_kinds = ["email", "phone"]
    settings.save()
    assert "@example.com" not in quoted() and "347 123 456" not in quoted()


def test_a_topics_quotes_are_three_voices_not_one_message_repeated():
    org = make_org("Casalinghi Ferri")
    ch = make_api_channel(org)
    # The same complaint pasted by five customers (a template, a forwarded text), and others.
    same = "La consegna è in ritardo di una settimana, il corriere non si è visto."
    for i in range(5):
        customer_writes(ch, same if i % 2 else "  " + same.upper() + " ", sender_id=f"same-{i}")
    for i, text in enumerate(LATE + BROKEN):
        customer_writes(ch, text, sender_id=f"other-{i}")
    while analyse_batch()[0]:
        pass
    do_find_topics(org, k=2)
    sara = AgentApi(make_agent(org, "Sara", role=Role.SUPERVISOR))

    topics = sara.get("/insights/topics").json()
    assert topics
    for topic in topics:
        texts = [" ".join(q["text"].lower().split()) for q in topic["quotes"]]
        assert len(texts) == len(set(texts)), texts
    late = next(t for t in topics if any("ritardo" in q["text"].lower() for q in t["quotes"]))
    assert len(late["quotes"]) == 3


def test_survey_reasons_are_clustered_with_first_messages_so_praise_has_topics():
    # Praise is rarely a first message: it comes as the reason of a survey's score.
    # Each customer first asks a neutral question, is answered and resolved, then scores
    # the conversation; half give the reason in the same message, half when asked why.
    from adesso.conversations.actions import do_change_status, do_send_reply
    from adesso.conversations.models import Conversation, Status

    org = make_org("Casalinghi Ferri", surveys=True)
    ch = make_api_channel(org)
    giulia = make_agent(org, "Giulia")
    for i, text in enumerate(PRAISE):
        code = customer_writes(ch, f"Buongiorno, a che ora aprite sabato {i}?", sender_id=f"p{i}")["conversation"]
        conversation = Conversation.objects.get(code=code)
        do_send_reply(giulia, conversation, "Apriamo alle 8.")
        do_change_status(giulia, conversation, Status.RESOLVED)
        if i % 2:
            customer_writes(ch, f"5 {text}", sender_id=f"p{i}")
        else:
            customer_writes(ch, "5", sender_id=f"p{i}")
            customer_writes(ch, text, sender_id=f"p{i}")
    while analyse_batch()[0]:
        pass
    reasons = MessageSentiment.objects.filter(organization=org, first=True, vector__isnull=False).exclude(
        message__text__startswith="Buongiorno, a che ora"
    )
    assert reasons.count() == len(PRAISE)
    # A bare score is no reason: it is not clustered.
    assert not MessageSentiment.objects.filter(organization=org, first=True, message__text="5").exists()
    counts = do_find_topics(org, k=2)
    assert counts["positive"] >= 1
    praised = [r.topic for r in reasons.select_related("topic") if r.label == "positive"]
    assert len(praised) >= 6 and all(t is not None and t.polarity == "positive" for t in praised)
