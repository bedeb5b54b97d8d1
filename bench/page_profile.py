"""What the public and signed-in pages cost in Python, in-process, beside hello world.

    .venv/bin/python bench/page_profile.py                        # seeds a county, measures
    .venv/bin/python bench/page_profile.py --folder /tmp/county   # seeds there once, reuses it
    .venv/bin/python bench/page_profile.py --folder /tmp/county --profile service
    .venv/bin/python bench/page_profile.py --folder /tmp/county --html /tmp/pages-before

The demo county (`flask db upgrade`, `flask seed-demo`, `flask search sync`, then three more
citizens with a budget each through the budgets' own rules, as bench/load.py's `--prepare`
makes them) in a SQLite database in `--folder` (a temporary folder if not given; reused when
it already holds one, so that two trees can be measured on the same rows). Then, in this
process, the app as bench/load.py serves it (`MARKETPLACE_ENV=development`, rate limits off)
and Flask's test client:

- hello world: bench/hello_wsgi.py's WSGI app through werkzeug's test client (the baseline
  bench/load.py serves beside the app), and a Flask route answering the same 13 bytes
  registered on the app itself (so every `before_request` and `after_request` hook runs);
- home `/`; service `/services/<id>` and provider `/providers/<id>`, going round every
  public service and every provider with one; and, signed in as the demo's citizen
  (Dorothy, whose budget pays for care), `/my/`, `/my/budget` and `/my/orders`.

Each page is asked `--warmup` times, then `--requests` times in `--rounds` rounds, the pages
taking turns round by round (so the machine's load falls on all of them alike). Printed, per
page: CPU ms per request (`time.process_time`, the median of the rounds' means, and the
lowest), wall ms per request, SQL statements per request (a `before_cursor_execute`
listener), and the ratio of hello world's CPU per request to the page's (the page's share of
hello world's requests per second, as bench/load.py prints it under gunicorn, but without
gunicorn's own cost, so in-process ratios are far lower than load.py's).

`--profile PAGE` (one of the page names printed) runs that page's requests under cProfile
instead and prints the top `--top` functions by internal time and by cumulative time.

`--statements PAGE` prints the SQL of one request of that page (after one to warm).

`--html FOLDER` writes each page's HTML for several services, providers and citizens (the
demo's citizen, her daughter Karen, the self-funder and the three bench citizens) into
FOLDER, with CSRF tokens and CSP nonces blanked, for comparing two trees with `diff -r`.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
BLANK = (
    (re.compile(r'(name="csrf_token"[^>]*value=")[^"]+'), r"\1-"),
    (re.compile(r'(name="csrf-token" content=")[^"]+'), r"\1-"),
    (re.compile(r'nonce="[^"]+"'), 'nonce="-"'),
)
SIGN_INS = {
    "citizen@demo.example.org": "marmalade lighthouse tandem",
    "family@demo.example.org": "thimble larch postcard",
    "selffunder@demo.example.org": "saffron orchard bicycle",
}
PAGES = ("home", "service", "provider", "my home", "my budget", "my orders")
LOAD_PREPARE = (sys.executable, str(ROOT / "bench" / "load.py"), "--prepare")
MY_PAGES = (("home", "/my/"), ("budget", "/my/budget"), ("orders", "/my/orders"))
HELLO = ("hello world (WSGI)", "hello world (Flask route)")


def _environment(folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'county.db'}",
        "INSTANCE_PATH": str(folder / "instance"),
        "MARKETPLACE_ENV": "development",
        "SECRET_KEY": "bench-page-profile-secret-key",
        "RATELIMIT_ENABLED": "false",
        "FLASK_APP": "wsgi",
    }


def seed(folder: Path) -> dict[str, Any]:
    """The demo county in `folder` (seeded once; reused after), and bench/load.py's facts."""
    facts_file = folder / "facts.json"
    if facts_file.exists():
        return dict(json.loads(facts_file.read_text()))
    folder.mkdir(parents=True, exist_ok=True)
    env = _environment(folder)
    flask = [sys.executable, "-m", "flask"]
    for command in (["db", "upgrade"], ["seed-demo", "--quiet"], ["search", "sync"]):
        subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [*LOAD_PREPARE, str(facts_file), "--budgets", "3"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return dict(json.loads(facts_file.read_text()))


def blank(html: str) -> str:
    for pattern, replacement in BLANK:
        html = pattern.sub(replacement, html)
    return html


class Bench:
    def __init__(self, folder: Path) -> None:
        import hello_wsgi
        from flask import Flask
        from sqlalchemy import event
        from werkzeug.test import Client

        self.facts = seed(folder)
        os.environ.update(_environment(folder))
        from marketplace import create_app
        from marketplace.extensions import db

        self.app: Flask = create_app()

        @self.app.route("/bench-hello")
        def bench_hello() -> tuple[bytes, int, dict[str, str]]:
            return hello_wsgi.BODY, 200, {"Content-Type": "text/plain"}

        self.statements = 0
        self.shown: list[str] | None = None

        def count(*args: Any) -> None:
            self.statements += 1
            if self.shown is not None:
                self.shown.append(" ".join(str(args[2]).split())[:300])

        with self.app.app_context():
            event.listen(db.engine, "before_cursor_execute", count)
        self.hello = Client(hello_wsgi.app)
        self.anonymous = self.app.test_client()
        self.citizens = {email: self.sign_in(email) for email in SIGN_INS}
        self.citizens.update({email: self.sign_in(email) for email in self.facts["citizens"]})
        self.turn: dict[str, int] = {}

    def sign_in(self, email: str) -> Any:
        client = self.app.test_client()
        form = client.get("/sign-in").get_data(as_text=True)
        found = CSRF.search(form)
        assert found is not None, "no form on the sign-in page"
        answer = client.post(
            "/sign-in",
            data={
                "csrf_token": found.group(1),
                "email": email,
                "password": SIGN_INS.get(email, "harbour lantern thimble"),
            },
        )
        assert answer.status_code == 302, f"{email} could not sign in"
        return client

    def _next(self, name: str, choices: list[str]) -> str:
        n = self.turn.get(name, 0)
        self.turn[name] = n + 1
        return choices[n % len(choices)]

    def asker(self, page: str) -> Callable[[], None]:
        """One request of `page`, failing loudly on anything but 200."""
        dorothy = self.citizens["citizen@demo.example.org"]
        paths: dict[str, Callable[[], tuple[Any, str]]] = {
            "hello world (WSGI)": lambda: (self.hello, "/"),
            "hello world (Flask route)": lambda: (self.anonymous, "/bench-hello"),
            "home": lambda: (self.anonymous, "/"),
            "service": lambda: (
                self.anonymous,
                f"/services/{self._next('service', self.facts['services'])}",
            ),
            "provider": lambda: (
                self.anonymous,
                f"/providers/{self._next('provider', self.facts['providers'])}",
            ),
            "my home": lambda: (dorothy, "/my/"),
            "my budget": lambda: (dorothy, "/my/budget"),
            "my orders": lambda: (dorothy, "/my/orders"),
        }
        where = paths[page]

        def ask() -> None:
            client, path = where()
            answer = client.get(path)
            status = answer.status_code if hasattr(answer, "status_code") else answer.status
            assert str(status).startswith("200"), f"{path}: {status}"
            answer.close()

        return ask

    def measure(self, pages: list[str], warmup: int, requests: int, rounds: int) -> None:
        askers = {page: self.asker(page) for page in pages}
        for ask in askers.values():
            for _ in range(warmup):
                ask()
        per_round = max(requests // rounds, 1)
        cpu: dict[str, list[float]] = {page: [] for page in pages}
        wall: dict[str, list[float]] = {page: [] for page in pages}
        statements: dict[str, int] = dict.fromkeys(pages, 0)
        for _ in range(rounds):
            for page, ask in askers.items():
                self.statements = 0
                started_cpu, started_wall = time.process_time(), time.perf_counter()
                for _ in range(per_round):
                    ask()
                cpu[page].append((time.process_time() - started_cpu) / per_round * 1000)
                wall[page].append((time.perf_counter() - started_wall) / per_round * 1000)
                statements[page] += self.statements
        baseline = statistics.median(cpu["hello world (WSGI)"])
        print(
            f"{'page':<26} {'CPU ms':>8} {'lowest':>8} {'wall ms':>8} {'stmts':>6} "
            f"{'hello/page':>10}  ({rounds} rounds of {per_round} requests)"
        )
        for page in pages:
            middle = statistics.median(cpu[page])
            print(
                f"{page:<26} {middle:>8.3f} {min(cpu[page]):>8.3f} "
                f"{statistics.median(wall[page]):>8.3f} "
                f"{statements[page] / (rounds * per_round):>6.1f} {baseline / middle:>10.4f}"
            )

    def profile(self, page: str, warmup: int, requests: int, top: int) -> None:
        ask = self.asker(page)
        for _ in range(warmup):
            ask()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            ask()
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.strip_dirs()
        print(f"{page}: {requests} requests, by internal time")
        stats.sort_stats("tottime").print_stats(top)
        print(f"{page}: {requests} requests, by cumulative time")
        stats.sort_stats("cumulative").print_stats(top)

    def show_statements(self, page: str) -> None:
        ask = self.asker(page)
        ask()
        self.shown = []
        ask()
        print(f"{page}: {len(self.shown)} statements")
        for n, statement in enumerate(self.shown, 1):
            print(f"{n:>3}. {statement}")
        self.shown = None

    def html(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        wanted: list[tuple[str, Any, str]] = [("home", self.anonymous, "/")]
        for service in self.facts["services"][::5]:
            wanted.append((f"service-{service}", self.anonymous, f"/services/{service}"))
        for provider in self.facts["providers"]:
            wanted.append((f"provider-{provider}", self.anonymous, f"/providers/{provider}"))
        for email, client in self.citizens.items():
            for name, path in MY_PAGES:
                wanted.append((f"{email.split('@')[0]}-{name}", client, path))
        for name, client, path in wanted:
            answer = client.get(path)
            text = f"{answer.status_code}\n" + blank(answer.get_data(as_text=True))
            (out / f"{name}.html").write_text(text)
        print(f"{len(wanted)} pages written to {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, help="the county's folder (seeded if empty)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES))
    parser.add_argument(
        "--profile", choices=[*PAGES, *HELLO], help="profile this page (or hello world) instead"
    )
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument(
        "--statements", choices=PAGES, help="print one request's statements of this page instead"
    )
    parser.add_argument("--html", type=Path, help="write the pages' HTML here instead")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="page-profile-"))
    bench = Bench(folder)
    if args.html:
        bench.html(args.html)
    elif args.statements:
        bench.show_statements(args.statements)
    elif args.profile:
        bench.profile(args.profile, args.warmup, args.requests, args.top)
    else:
        bench.measure(
            [*HELLO, *args.pages],
            args.warmup,
            args.requests,
            args.rounds,
        )


if __name__ == "__main__":
    main()
