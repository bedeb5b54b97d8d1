"""Run localstripe, a fake Stripe API, on the loopback interface (development and tests only).

localstripe is GPL and a development dependency: nothing the app ships imports it; `make run`
(with no STRIPE_SECRET_KEY) and the tests start it as a separate process through this script.

Its own command line listens on every interface and keeps its state in the fixed file
/tmp/localstripe.pickle, which two copies running at once (two test workers, two engineers)
would overwrite for each other. This launcher binds 127.0.0.1 only, on the port asked for or
a free one (port 0), and keeps the state in the file given (`--state-file`), or in memory only.
Once listening it prints `listening on http://127.0.0.1:PORT` on one line of standard output,
so whoever started it can read the port.

    python scripts/localstripe_server.py --port 0 --state-file /tmp/x/localstripe.pickle \
        --webhook-url http://127.0.0.1:5000/webhooks/stripe --webhook-secret whsec_…
"""

from __future__ import annotations

import argparse
import pickle
import socket
import sys
from pathlib import Path

from aiohttp import web
from localstripe import resources
from localstripe.server import app
from localstripe.webhooks import register_webhook


def keep_state_in(state_file: Path | None) -> None:
    """Point localstripe's store at `state_file` (None: memory only) instead of its fixed
    /tmp/localstripe.pickle."""

    def load(store: resources.Store) -> None:
        if state_file is None or not state_file.exists():
            return
        with state_file.open("rb") as saved:
            old = pickle.load(saved)  # noqa: S301 - a file only this process writes
        store.clear()
        store.update(old)

    def dump(store: resources.Store) -> None:
        if state_file is None:
            return
        # Written beside and renamed over, so a reader never finds half a file.
        partial = state_file.with_suffix(".partial")
        with partial.open("wb") as saved:
            pickle.dump(dict(store), saved, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(state_file)

    resources.Store.try_load_from_disk = load  # type: ignore[method-assign]
    resources.Store.dump_to_disk = dump  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 (the default): a free port")
    parser.add_argument("--state-file", type=Path, help="where to keep state (default: memory)")
    parser.add_argument(
        "--from-scratch", action="store_true", help="ignore the state file's earlier state"
    )
    parser.add_argument("--webhook-url", help="send every event here (the app's webhook)")
    parser.add_argument("--webhook-secret", help="and sign it with this endpoint secret")
    arguments = parser.parse_args(argv)
    if bool(arguments.webhook_url) != bool(arguments.webhook_secret):
        parser.error("--webhook-url and --webhook-secret go together")

    keep_state_in(arguments.state_file)
    if not arguments.from_scratch:
        resources.store.try_load_from_disk()
    if arguments.webhook_url:
        # As `POST /_config/webhooks/marketplace` would, before the first request.
        register_webhook("marketplace", arguments.webhook_url, arguments.webhook_secret, None)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", arguments.port))
    # Listening before the port is announced: a request sent at once waits in the backlog
    # until the server takes it, never meets a refused connection.
    listener.listen(128)
    port = listener.getsockname()[1]
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    web.run_app(app, sock=listener, print=None, access_log=None, handle_signals=True)


if __name__ == "__main__":
    sys.exit(main())
