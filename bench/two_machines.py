"""How long a listing change takes to reach the other machine's search, beside the same
machine's, in the same run.

    .venv/bin/python bench/two_machines.py                        # SQLite in a temporary folder
    scripts/with-postgres.sh .venv/bin/python bench/two_machines.py   # TEST_DATABASE_URL's server

The demo county in a fresh database, and two gunicorn processes (one sync worker each) with
their own instance folders and search indexes, as two machines are. A provider signed in on
machine one takes a listing down and puts it back, `--rounds` times; after each change the
bench searches for the listing's name, every 20 ms, on machine one (the baseline: the request
that saved it syncs that machine's index as it ends) and on machine two (which catches up
from the shared outbox before a search, if its last look was more than SEARCH_SYNC_SECONDS ago).
Printed: p50, p95 and max of each lag. Goal: machine two's p95 under one second.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(database_url: str, instance: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "MARKETPLACE_ENV": "development",
        "SECRET_KEY": "bench-two-machines-share-one-secret-key",
        "RATELIMIT_ENABLED": "false",
        "FLASK_APP": "wsgi",
    }


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(f"{url}/healthz", timeout=5).ok:
                return process, url
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit("a machine did not start")


def _lag(url: str, name: str, service_id: str, present: bool, started: float) -> float:
    """Seconds from `started` (the change's commit) until `url`'s search shows it."""
    while True:
        page = requests.get(f"{url}/search", params={"q": name}, timeout=30).text
        if (f"/services/{service_id}" in page) == present:
            return time.perf_counter() - started
        if time.perf_counter() - started > 30:
            raise SystemExit("the change never arrived")
        time.sleep(0.02)


def _summary(label: str, lags: list[float]) -> str:
    ordered = sorted(lags)
    p50 = ordered[len(ordered) // 2]
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"{label:<34} p50 {p50 * 1000:7.0f} ms   p95 {p95 * 1000:7.0f} ms"
        f"   max {ordered[-1] * 1000:7.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="two-machines-"))
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        url = make_url(server)
        name = f"bench_{os.getpid()}"
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        database_url = url.set(database=name).render_as_string(hide_password=False)
    else:
        database_url = f"sqlite:///{folder / 'county.db'}"
    setup = _env(database_url, folder / "setup")
    for command in (["db", "upgrade"], ["seed-demo", "--quiet"]):
        subprocess.run([sys.executable, "-m", "flask", *command], cwd=ROOT, env=setup, check=True)
    engine = create_engine(database_url)
    with engine.connect() as connection:
        service_id, name = connection.execute(
            text(
                "SELECT s.id, s.name FROM services s JOIN organisations o ON o.id = "
                "s.organisation_id WHERE o.name = 'Chiltern Home Care' AND s.status = "
                "'published' ORDER BY s.name LIMIT 1"
            )
        ).one()
    engine.dispose()
    service_id = str(service_id)
    service_id = str(uuid.UUID(service_id))
    machines = [_serve(_env(database_url, folder / f"machine-{n}")) for n in (1, 2)]
    one, two = machines[0][1], machines[1][1]
    try:
        provider = requests.Session()
        form = provider.get(f"{one}/sign-in", timeout=30).text
        provider.post(
            f"{one}/sign-in",
            data={
                "csrf_token": CSRF.search(form).group(1),  # type: ignore[union-attr]
                "email": "provider@demo.example.org",
                "password": "copper kettle meadow",
            },
            timeout=30,
        )
        same, other = [], []
        for round_ in range(args.rounds):
            move = "unpublish" if round_ % 2 == 0 else "publish"
            dashboard = provider.get(f"{one}/provider/", timeout=30).text
            provider.post(
                f"{one}/provider/services/{service_id}/status",
                data={"csrf_token": CSRF.search(dashboard).group(1), "move": move},  # type: ignore[union-attr]
                timeout=30,
            )
            changed_at = time.perf_counter()
            present = move == "publish"
            with ThreadPoolExecutor(2) as pool:
                lags = [
                    pool.submit(_lag, machine, name, service_id, present, changed_at)
                    for machine in (one, two)
                ]
                same.append(lags[0].result())
                other.append(lags[1].result())
        kind = make_url(database_url).get_backend_name()
        print(f"{args.rounds} listing changes on machine one ({kind}):")
        print(_summary("seen by machine one's search", same))
        print(_summary("seen by machine two's search", other))
    finally:
        for process, _ in machines:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
