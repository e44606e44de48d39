"""The architecture's contracts (setup.cfg [importlinter]), checked by import-linter on every run:
the portal never imports the publisher; the core imports neither, nor Flask; the portal's modules
import each other without cycles (a cycle hidden in a function-level import counts too)."""
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_import_contracts_are_kept():
    lint = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    done = subprocess.run([lint, "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 kept, 0 broken" in done.stdout
