#!/usr/bin/env bash
# `make bench`: the inbound pipeline, intake, inbox, SLA timer and web chat benchmarks on SQLite and PostgreSQL, about 14 minutes
# on a 2-core machine (more while other processes keep it busy: see BENCH_WAIT_QUIET).
# Results: bench/results/*.json; their summary: `.venv/bin/python -m bench.report`.
#
#   BENCH_PG_URL      PostgreSQL server to create adesso_bench on
#                     (default postgres://postgres@127.0.0.1:5432/postgres)
#   BENCH_WAIT_QUIET  seconds to wait, before each measurement, for other processes
#                     to leave the CPU idle (default 15; 0 to measure at once)
#   BENCH_QUICK=1     fewer requests and 20,000 conversations: a smoke test in ~3 min
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
QUIET=${BENCH_WAIT_QUIET:-15}
if [[ ${BENCH_QUICK:-0} == 1 ]]; then
    PIPELINE=(--requests 1000 --seconds 3 --rounds 1 --backlog 2000 --latency-seconds 5 --wait-quiet "$QUIET")
    INTAKE=(--requests 1500 --seconds 4 --wait-quiet "$QUIET")
    INBOX=(--conversations 20000 --requests 60 --wait-quiet "$QUIET")
else
    PIPELINE=(--wait-quiet "$QUIET")
    INTAKE=(--requests 8000 --seconds 8 --wait-quiet "$QUIET")
    INBOX=(--conversations 100000 --requests 300 --wait-quiet "$QUIET")
fi
started=$(date +%s)

failed=()
step() { echo; echo "== [$(date -u +%H:%M:%S)] $*"; }
# A failed measurement is reported at the end; the others still run.
run() { "$@" || failed+=("$*"); }

# The inbound pipeline (issue 10): accepting beside a bare one-INSERT Django view served by the
# same server in the same run (the stack's limit), processing by the Procfile's workers, latency.
step "inbound pipeline, SQLite: accept vs the stack's limit, processing with 1 worker, latency"
run "$PY" -m bench.pipeline --db sqlite "${PIPELINE[@]}"
if "$PY" -c "import psycopg, sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$PG_URL" 2>/dev/null; then
    step "inbound pipeline, PostgreSQL: accept vs the stack's limit, processing with 2 workers, latency"
    run "$PY" -m bench.pipeline --db postgres --pg-url "$PG_URL" "${PIPELINE[@]}"
fi

step "intake, SQLite, served as the Procfile's web process (granian wsgi, 2 workers, 1 thread each)"
run "$PY" -m bench.intake --db sqlite "${INTAKE[@]}"
step "intake, SQLite, granian wsgi, 1 worker (SQLite has one writer: does a second worker help?)"
run "$PY" -m bench.intake --db sqlite --workers 1 "${INTAKE[@]}"
step "intake, SQLite, granian asginl, 1 worker (the former setup: ASGI for everything)"
run "$PY" -m bench.intake --db sqlite --interface asginl --workers 1 "${INTAKE[@]}"

if "$PY" -c "import psycopg, sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$PG_URL" 2>/dev/null; then
    step "intake, PostgreSQL, served as the Procfile's web process"
    run "$PY" -m bench.intake --db postgres --pg-url "$PG_URL" "${INTAKE[@]}"
    step "intake, PostgreSQL, granian asginl, 1 worker (the former setup: ASGI for everything)"
    run "$PY" -m bench.intake --db postgres --pg-url "$PG_URL" --interface asginl --workers 1 "${INTAKE[@]}"
else
    step "PostgreSQL is not reachable at $PG_URL: skipping its intake and inbox runs"
    PG_URL=""
fi

step "inbox, SQLite"
run "$PY" -m bench.inbox --db sqlite "${INBOX[@]}"
if [[ -n $PG_URL ]]; then
    step "inbox, PostgreSQL"
    run "$PY" -m bench.inbox --db postgres --pg-url "$PG_URL" "${INBOX[@]}"
fi

if [[ ${BENCH_QUICK:-0} == 1 ]]; then TIMERS=(--conversations 20000 --ticks 20); else TIMERS=(--conversations 100000 --ticks 60); fi
step "SLA timer tick, SQLite"
run "$PY" -m bench.timers --db sqlite "${TIMERS[@]}"
if [[ -n $PG_URL ]]; then
    step "SLA timer tick, PostgreSQL"
    run "$PY" -m bench.timers --db postgres --pg-url "$PG_URL" "${TIMERS[@]}"
fi

step "reports, planner and digest at 100,000 conversations, SQLite"
run "$PY" -m bench.reports --db sqlite
if [[ -n $PG_URL ]]; then
    step "reports, planner and digest at 100,000 conversations, PostgreSQL"
    run "$PY" -m bench.reports --db postgres --pg-url "$PG_URL"
fi

step "reply coach: latency for a 1,000-character draft (engine, similarity, the UI's request)"
run "$PY" -m bench.coach

if [[ ${BENCH_QUICK:-0} == 1 ]]; then WEBCHAT=(--rounds 5); else WEBCHAT=(--rounds 20); fi
step "web chat: the widget in Chromium through make run's processes (web, live, a worker): message, reply, acknowledgement"
run "$PY" -m bench.webchat "${WEBCHAT[@]}" --wait-quiet "$QUIET"

step "summary of this run ($(( $(date +%s) - started )) s)"
"$PY" -m bench.report --since "$started"
if (( ${#failed[@]} )); then
    printf '\nFailed:\n'
    printf '  %s\n' "${failed[@]}"
    exit 1
fi
