"""Which heavy modules a sratplan command line imports: the command runs in a
fresh ``python -S`` (no site hooks) with this tree on PYTHONPATH."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def loaded_modules(argv, heavy, cwd) -> tuple[list[str], subprocess.CompletedProcess]:
    """(the modules of ``heavy`` imported by ``sratplan *argv``, the process)."""
    probe = ("import sys, runpy; sys.argv = ['sratplan'] + sys.argv[1:]\n"
             "try:\n    runpy.run_module('sratplan', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             f"heavy = {tuple(heavy)!r}\n"
             "sys.stderr.write('LOADED ' + ' '.join(k for k in heavy if k in sys.modules))\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-S", "-c", probe, *map(str, argv)], capture_output=True, text=True,
                       env=env, cwd=cwd, check=False)
    return r.stderr.rsplit("LOADED", 1)[-1].split(), r
