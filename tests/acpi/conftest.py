"""Make the helper modules of this directory (acpi_paths, builders,
iasl_listing) importable by the tests here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
