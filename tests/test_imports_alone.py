"""Every module of the app imports on its own, whichever is imported first.

An audience's package makes its blueprint and imports its view modules (docs/architecture.md,
"Blueprints"), so importing any module of accounts/ or notifications/ (as the rules, the
command lines and the migrations do) imports their pages too: a view that imports a name from
a module that imports the package is a cycle, which only shows when that module comes first.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# One interpreter imports each module from a clean slate of our packages (third-party ones stay
# loaded, so this takes seconds, not a fresh interpreter per module).
SCRIPT = """
import importlib, sys, warnings
from pathlib import Path

warnings.simplefilter("ignore")
root = Path(sys.argv[1])
ours = ("marketplace", "providers", "search")
for package in ("marketplace", "providers"):
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for name in [name for name in sys.modules if name.split(".")[0] in ours]:
            del sys.modules[name]
        try:
            importlib.import_module(module)
        except Exception as error:
            print(f"{module}: {type(error).__name__}: {error}")
"""


def test_every_module_imports_first() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines() == []
