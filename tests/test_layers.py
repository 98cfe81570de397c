"""The apps' layers: no module imports from an app above its own (the import-linter contract in
pyproject.toml, run here on the real import graph)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from importlinter import configuration
from importlinter.application.use_cases import lint_imports

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_no_app_imports_from_a_layer_above_it(capsys):
    # given the contract of the layers
    configuration.configure()
    # when it is checked against every import of the package (no cache: the tree as it is now)
    kept = lint_imports(config_filename=str(PYPROJECT), cache_dir=None, no_logo=True)
    # then it holds (the report names each import that breaks it)
    assert kept, capsys.readouterr().out


def test_the_layers_make_no_exception():
    # given the contract
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    # when its exceptions are read
    ignored = [contract.get("ignore_imports", []) for contract in contracts]
    # then there are none (an exception is a decision, made here)
    assert ignored == [[]]
