"""The app served by Werkzeug's server in a thread, on 127.0.0.1 and a free port.

Werkzeug's development server closes the app's response only if reading what is left of the
request after the answer succeeds; when a browser resets the connection at that moment (it
does, when it navigates away while a stylesheet loads), the close is skipped. The response of
`send_file` then leaves its file open until a garbage collection, whose ResourceWarning the
suite turns into an error in whichever test happens to be running (it failed CI once, on
static/css/marketplace.css). So each response is read whole and closed here, before the
server touches the socket. Nothing the tests serve is streamed, so nothing changes for them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from werkzeug.serving import make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


def closing_each_response(app: WSGIApplication) -> WSGIApplication:
    """`app`, with every response read whole and closed before it is returned to the server."""

    def read_and_close(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return read_and_close


@contextlib.contextmanager
def serving(app: WSGIApplication, name: str = "live-server") -> Iterator[str]:
    """Serve `app` on a free loopback port until the block ends; yields its address."""
    server = make_server("127.0.0.1", 0, closing_each_response(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
