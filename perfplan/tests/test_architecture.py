"""The layers contract (.importlinter, `make lint-imports`) places every perfplan module.

The wiring and the core share the perfplan package (its app label holds the core's models), so
each perfplan module is named in its layer: a module left out would escape the one-way rule.
"""

import configparser
import re
from pathlib import Path

import perfplan

ROOT = Path(perfplan.__file__).resolve().parent.parent
NOT_CODE = {"__init__", "tests", "migrations", "__pycache__"}


def contract_layers():
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter", encoding="utf-8")
    layers = config["importlinter:contract:layers"]["layers"]
    return [
        [name.strip(" ()") for name in re.split(r"[:|]", line)]
        for line in layers.strip().splitlines()
    ]


def perfplan_modules():
    here = ROOT / "perfplan"
    names = {p.stem for p in here.glob("*.py")} | {
        p.name for p in here.iterdir() if p.is_dir() and (p / "__init__.py").exists()
    }
    return {f"perfplan.{name}" for name in names - NOT_CODE}


def test_the_layers_go_from_the_wiring_down_to_the_core():
    layers = contract_layers()
    assert "perfplan.settings" in layers[0] and "perfplan.models" in layers[-1]
    assert layers[1:-1] == [
        ["api", "public", "reminders"],
        ["reports", "rollover"],
        ["indicators", "budgets"],
        ["goals"],
    ]


def test_every_perfplan_module_is_in_a_layer():
    placed = {name for layer in contract_layers() for name in layer}
    assert perfplan_modules() - placed == set(), "add these to a layer in .importlinter"
