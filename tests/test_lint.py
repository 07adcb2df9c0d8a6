"""The code stays ruff-clean (the style rules in pyproject.toml), so a lint slip fails the suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bot.config import ROOT


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is pinned in requirements-dev.txt"
    proc = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:]
