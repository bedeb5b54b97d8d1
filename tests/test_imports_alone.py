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

# Run as `python -c SCRIPT ROOT PACKAGES OURS`: imports each module of PACKAGES (comma
# separated, folders under ROOT) first, from a clean slate of the packages OURS, and prints
# one line for each that fails. One parent imports everything once, so every third-party
# package is loaded, forgets our modules and compiles their bytecode into a folder of its own.
#
# Importing a module first runs its packages' __init__ first, outermost first, each to its
# end (`import a.b.c` imports `a`, then `a.b`, then `a.b.c`): every module of a package starts
# from the same state, the one its package's import leaves. So the modules are imported down
# a tree of forked processes: a child forked from the clean parent imports `a` and reports it,
# then forks a child per module of `a`, each of which imports that module (`a.b`) from the
# state `a`'s import left, and so on down. Each module is still imported once, first, in a
# process that has imported nothing of ours but its own packages, exactly as a fresh
# interpreter would have; what a package's import costs (an audience's package imports its
# views, so most of the app) is paid once for the package instead of once for each of its
# modules. A module whose package fails is reported with its package's error, as importing it
# first would. Two imports at a time (tokens in a pipe): the test is one of the longest, and
# the other core may have nothing else left to run.
SCRIPT = """
import gc, importlib, os, py_compile, sys, tempfile, traceback, warnings
from importlib.util import cache_from_source
from pathlib import Path

warnings.simplefilter("ignore")
root = Path(sys.argv[1])
sys.path.insert(0, str(root))
packages = sys.argv[2].split(",")
ours = tuple(sys.argv[3].split(","))
modules = []
for package in packages:
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))

# Each module under the nearest of its packages in the list (a folder without __init__.py is
# a namespace package, with no code of its own to run); a module with none is imported first
# from the clean parent.
listed = set(modules)
members = {}
for module in modules:
    package = module.rpartition(".")[0]
    while package and package not in listed:
        package = package.rpartition(".")[0]
    members.setdefault(package, []).append(module)

for module in modules:
    try:
        importlib.import_module(module)
    except Exception:
        pass  # reported by its own child below
for name in [name for name in sys.modules if name.split(".")[0] in ours]:
    del sys.modules[name]
# Our bytecode, compiled once here rather than in every child (the environment may forbid
# writing it beside the sources), in a folder only this run reads.
sys.pycache_prefix = tempfile.mkdtemp(prefix="imports-alone-")
sys.dont_write_bytecode = True
for package in ours:
    for path in (root / package).rglob("*.py"):
        source = str(path)
        py_compile.compile(source, cfile=cache_from_source(source), doraise=False, quiet=2)
gc.collect()
gc.freeze()
sys.stdout.flush()

# Two tokens: a process takes one (its parent takes it before forking it) while it imports.
take, give = os.pipe()
os.write(give, b"..")


def within(module):
    for member in members.get(module, ()):
        yield member
        yield from within(member)


def import_first(module):
    # In a child holding a token, with nothing of ours imported but the module's packages.
    try:
        importlib.import_module(module)
    except BaseException as error:
        for name in [module, *within(module)]:
            print(f"{name}: {type(error).__name__}: {error}", flush=True)
        return
    finally:
        os.write(give, b".")
    import_each(members.get(module, ()))


def import_each(modules):
    running = {}
    for module in modules:
        os.read(take, 1)
        pid = os.fork()
        if pid == 0:
            status = 0
            try:
                import_first(module)
            except BaseException:
                print(f"{module}: {traceback.format_exc()!r}", flush=True)
                status = 1
            os._exit(status)
        running[pid] = module
    for pid, module in running.items():
        _pid, status = os.waitpid(pid, 0)
        if status != 0:
            print(f"{module}: its child ended with status {status}", flush=True)


import_each(members.get("", ()))
"""


def failures_importing_first(root: Path, packages: list[str], ours: list[str]) -> list[str]:
    """One line for each module of `packages` that fails to import when imported first."""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(root), ",".join(packages), ",".join(ours)],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted(result.stdout.splitlines())


def test_every_module_imports_first() -> None:
    failures = failures_importing_first(
        ROOT, ["marketplace", "providers"], ["marketplace", "providers", "search"]
    )
    assert failures == []


def test_a_cycle_that_shows_only_when_one_module_comes_first_is_caught(tmp_path: Path) -> None:
    """The check itself: a package that imports its views, and a view that imports a name from
    a module that imports the package, as in the cycle this file exists for."""
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "pages").mkdir()
    (package / "pages" / "__init__.py").write_text(
        "BLUEPRINT = 'pages'\nfrom shop.pages import views\n"
    )
    (package / "pages" / "views.py").write_text("from shop.rules import PRICE\n")
    (package / "rules.py").write_text("import shop.pages\nPRICE = 1\n")

    failures = failures_importing_first(tmp_path, ["shop"], ["shop"])

    # shop.rules first: rules -> shop.pages -> views -> `from shop.rules import PRICE`, with
    # rules not yet past its first line. Any other module first imports rules from the views,
    # after which rules' `import shop.pages` finds the package already there.
    assert [line.split(":")[0] for line in failures] == ["shop.rules"]
    assert "ImportError" in failures[0]
