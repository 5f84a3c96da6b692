"""The layers contract (pyproject.toml, ``[tool.importlinter]``) holds: cli → training | bench →
agents → teachers → envs → foundations, with no import cycles inside a package's own layers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str:
    found = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail('lint-imports is missing: pip install -e ".[dev]" installs import-linter')
    return found


def test_layers_contract_is_kept() -> None:
    completed = subprocess.run(
        [_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "0 broken" in completed.stdout


def test_contracts_have_no_escape_hatches() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = config["contracts"]
    assert any(contract["type"] == "layers" for contract in contracts)
    for contract in contracts:
        assert "ignore_imports" not in contract, contract["name"]
