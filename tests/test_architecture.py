"""The apps import each other only downwards (issue 10): the contracts in `.importlinter`,
checked here so that `make test` fails on any import loop between apps.

import-linter builds the import graph of `adesso` statically (module-level and
function-level imports; imports under TYPE_CHECKING are only for the type checker and
left out) and checks every contract, indirect imports included.
"""

import configparser
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import adesso
from adesso.conversations import signals
from adesso.conversations.models import Status
from adesso.sla import engine

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".importlinter"


def layered_modules() -> list[str]:
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    names = []
    for line in parser["importlinter:contract:layers"]["layers"].splitlines():
        names += [name.strip().strip("()") for name in line.replace("|", ":").split(":") if name.strip()]
    return names


def all_modules() -> list[str]:
    return [info.name for info in pkgutil.walk_packages(adesso.__path__, "adesso.")]


def test_the_import_contracts_are_kept():
    # In a fresh interpreter: the test process's imports (zope.interface, through
    # Twisted) trip import-linter's reading of its contract classes.
    result = subprocess.run(
        [Path(sys.executable).with_name("lint-imports"), str(CONFIG), "--no-cache"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_module_is_in_a_layer():
    """A module in no layer would escape the check: a new app must be placed."""
    layered = layered_modules()
    # A package split over several layers (its cross-app actions above its models)
    # holds only its children there; its __init__ is then in none.
    split = {name.rsplit(".", 1)[0] for name in layered}

    outside = [
        name
        for name in all_modules()
        if name not in split and not any(name == top or name.startswith(top + ".") for top in layered)
    ]

    assert outside == [], f"not in any layer of .importlinter (place each where it belongs): {outside}"


def test_no_module_is_in_two_layers():
    layered = layered_modules()

    assert len(layered) == len(set(layered))


def test_each_inverted_dependency_has_its_listener():
    """The core announces; routing, acknowledgements and the outbox listen. A signal
    nobody hears would lose the queue's hand-out, a promise's update or a delivery."""
    assert signals.capacity_freed.has_listeners()
    assert signals.snoozed.has_listeners()
    assert signals.message_written.has_listeners()


def test_the_sla_engine_knows_the_statuses_it_cannot_import():
    assert engine.PENDING == Status.PENDING
    assert engine.RESOLVED == Status.RESOLVED
