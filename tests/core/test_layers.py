"""The layer contracts (pyproject.toml, docs/ARCHITECTURE.md) hold, and they catch a new
upward import: `make lint` runs the same `lint-imports`, so CI fails on one."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_layer_contracts_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    shutil.copytree(ROOT / "apps", tmp_path / "apps", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    selectors = tmp_path / "apps" / "areas" / "selectors.py"
    selectors.write_text(selectors.read_text() + "\nfrom apps.locks.models import Lock  # noqa\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "apps.areas is not allowed to import apps.locks" in result.stdout
