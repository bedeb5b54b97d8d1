"""Run mypy and fail only on errors that are not in the checked-in baseline.

`make lint` runs this; `make mypy-baseline` (this script with --update) rewrites the baseline.

The baseline, `mypy-baseline.txt`, holds the errors the code had when the type checker came in
(issue 15, item 4), one line each, without line numbers so that editing a file above an old
error does not make it new. An error is new when its file holds more errors with that message
than the baseline lists. Errors fixed since are reported, not failed on: drop them with
`make mypy-baseline` in the commit that fixes them, so they cannot come back unnoticed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "mypy-baseline.txt"
# "path:line: error: message  [code]" (column numbers are off in pyproject.toml).
ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: (?P<message>.*)$")
# Messages that name other lines ("defined on line 12") would change with every edit above.
LINE_IN_MESSAGE = re.compile(r"\bline \d+\b")


def run_mypy() -> tuple[list[tuple[str, str]], str]:
    """mypy's errors as (key without line number, the line as mypy printed it), and its
    whole output (for when mypy itself fails)."""
    done = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode not in (0, 1):
        sys.exit(f"mypy did not run:\n{done.stdout}{done.stderr}")
    errors = []
    for line in done.stdout.splitlines():
        match = ERROR.match(line)
        if match:
            message = LINE_IN_MESSAGE.sub("line N", match["message"])
            errors.append((f"{match['path']}: {message}", line))
    return errors, done.stdout


def main(argv: list[str]) -> int:
    errors, _output = run_mypy()
    found = Counter(key for key, _line in errors)
    if "--update" in argv:
        BASELINE.write_text("".join(f"{key}\n" for key in sorted(found.elements())))
        print(f"{BASELINE.name}: {found.total()} errors")
        return 0
    known = Counter(BASELINE.read_text().splitlines()) if BASELINE.exists() else Counter()
    new = found - known
    fixed = known - found
    if fixed:
        print(
            f"mypy: {fixed.total()} error(s) in {BASELINE.name} are gone: "
            "run `make mypy-baseline` to drop them"
        )
    if new:
        extra = Counter(new)
        print(f"mypy: {new.total()} new error(s), not in {BASELINE.name}:")
        # Print every line of a key that has new errors: mypy cannot say which one is new.
        for key, line in errors:
            if extra[key]:
                print(f"  {line}")
        return 1
    print(f"mypy: no new errors ({found.total()} known, in {BASELINE.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
