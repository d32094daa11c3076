"""Shared test fixtures: paths to the repo's fixtures and the iasl binary."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))   # shared helpers such as truthcases.py

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def _find_iasl() -> str | None:
    cand = os.environ.get("SRATPLAN_IASL")
    if cand:
        return cand
    cache = Path(os.environ.get("SRATPLAN_CACHE", Path.home() / ".cache" / "sratplan"))
    w = cache / "acpica-sid" / "iasl"
    if w.exists():
        return str(w)
    return shutil.which("iasl")


IASL = _find_iasl()


def iasl_version() -> int | None:
    if not IASL:
        return None
    try:
        out = subprocess.run([IASL, "-v"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    import re

    m = re.search(r"version (\d{8})", out)
    return int(m.group(1)) if m else None


@pytest.fixture(scope="session")
def iasl():
    """Path of iasl; skips when it is genuinely absent (never in CI)."""
    if not IASL:
        if os.environ.get("SRATPLAN_REQUIRE_IASL"):
            pytest.fail("iasl is required here (SRATPLAN_REQUIRE_IASL) but was not found")
        pytest.skip("iasl not installed")
    return IASL


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES
