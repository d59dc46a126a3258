"""``spamclf serve``: the spamd protocol on TCP and Unix sockets, one process, one thread per
connection.

Why threads in one process: scoring a message takes 1-2.5 ms of CPU and holds the GIL, so
threads do not score in parallel, but they keep slow clients (a spamc still sending a large
message) from holding up the others, and every thread shares one model, so ``TELL`` learns into
the model that scores the next message. A pool of scoring processes would need each learned
update shipped to every worker, and it would not pay here: under 16 saturating spamc clients on
this project's 2-core machine the server used about 0.4 of a core, while each spamc process
cost as much CPU as the scoring itself (benchmarks/spamd_load.md); the protocol and threads add
no measurable CPU over ``Model.classify``.

Lifecycle: the model is loaded once; SIGHUP loads it again from the same file and swaps it in
(requests in flight finish with the model they started with; a file that fails to load leaves
the old model serving); SIGTERM or SIGINT stops accepting, lets requests in flight finish
(each is bounded by ``--timeout``), removes the Unix socket and exits 0.
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import signal
import socket
import socketserver
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spamclf.errors import SpamclfError
from spamclf.model import Model
from spamclf.spamd import (
    CHECK_METHODS,
    EX_DATAERR,
    EX_PROTOCOL,
    EX_SOFTWARE,
    EX_TIMEOUT,
    EX_UNAVAILABLE,
    ProtocolError,
    Request,
    check_reply,
    error_reply,
    ping_reply,
    read_request,
    tell_reply,
)

__all__ = ["ServerSettings", "SpamdServer", "add_arguments", "serve_from_args"]

log = logging.getLogger("spamclf.server")

DEFAULT_LISTEN = "127.0.0.1:783"  # spamd's port


@dataclass(frozen=True)
class ServerSettings:
    """How the server listens and what it tolerates.

    ``max_size`` bounds the message a client may send (spamc itself skips messages over its
    ``-s``, 500 KB by default); ``timeout`` bounds reading a whole request and writing the
    reply, so a client that stalls cannot hold a thread; ``max_connections`` bounds threads
    (more clients wait in the listen backlog).
    """

    listen: tuple[str, ...] = (DEFAULT_LISTEN,)
    max_size: int = 10_000_000
    timeout: float = 30.0
    max_connections: int = 64
    allow_tell: bool = False
    save_learned: str | None = None
    socket_mode: int | None = None


class SpamdServer:
    """Serves one model over the spamd protocol on every address in ``settings.listen``.

    ``start()`` binds and serves in background threads; ``reload()`` swaps in a freshly loaded
    model; ``stop()`` stops accepting and waits for requests in flight.
    """

    def __init__(self, model_path: str | os.PathLike[str], settings: ServerSettings) -> None:
        from spamclf import __version__

        self.model_path = Path(model_path)
        self.settings = settings
        self.version = __version__
        self.model: Model = _load(self.model_path)
        self._learn_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(settings.max_connections)
        self._pool = ThreadPoolExecutor(settings.max_connections, "spamclf-request")
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> list[str]:
        """Bind every address and serve; return the bound addresses (``host:port`` or path)."""
        bound = []
        for address in self.settings.listen:
            server = self._bind(address)
            self._servers.append(server)
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
            )
            thread.start()
            self._threads.append(thread)
            bound.append(_describe(server))
        log.info("spamclf %s serving %s on %s", self.version, self.model_path, ", ".join(bound))
        return bound

    def reload(self) -> bool:
        """Load the model file again and serve with it; keep the old model if that fails."""
        try:
            model = _load(self.model_path)
        except SpamclfError as exc:
            log.error("reload failed, still serving the previous model: %s", exc)
            return False
        with self._learn_lock:  # a TELL in progress finishes on the model it started with
            self.model = model
        log.info("reloaded %s", self.model_path)
        return True

    def stop(self) -> None:
        """Stop accepting, wait for requests in flight, close and remove the sockets."""
        self._stopping.set()
        for server in self._servers:
            server.shutdown()
        self._pool.shutdown(wait=True)  # requests in flight finish
        for server in self._servers:
            server.server_close()
            if isinstance(server, _UnixServer):
                Path(server.server_address).unlink(missing_ok=True)  # type: ignore[arg-type]
        log.info("stopped")

    # --- one connection ----------------------------------------------------------------------

    def handle(self, conn: socket.socket) -> None:
        """Answer the one request a spamd connection carries; never raises."""
        deadline = time.monotonic() + self.settings.timeout
        with _DeadlineReader(conn, deadline) as stream:
            self._respond(conn, stream, deadline)

    def _respond(self, conn: socket.socket, stream: _DeadlineReader, deadline: float) -> None:
        try:
            request = read_request(stream, self.settings.max_size)
            reply = self._answer(request)
        except ProtocolError as exc:
            reply = exc.reply
            if exc.code == EX_DATAERR:
                _send_then_drain(conn, reply, deadline)
                return
        except TimeoutError:
            reply = error_reply(EX_TIMEOUT, f"({self.settings.timeout:g} second socket timeout)")
        except OSError:
            return  # the client went away; nobody to answer
        except Exception:  # a bug must cost one request, not the server
            log.exception("internal error")
            reply = error_reply(EX_SOFTWARE, "internal error")
        try:
            conn.settimeout(max(deadline - time.monotonic(), 1.0))
            conn.sendall(reply)
        except OSError:
            pass

    def _answer(self, request: Request) -> bytes:
        if request.method == "PING":
            return ping_reply()
        if request.method == "SKIP":
            return b""
        if request.method == "TELL":
            return self._tell(request)
        assert request.method in CHECK_METHODS
        model = self.model  # one model for the whole request, even if SIGHUP swaps it now
        verdict = model.classify(request.body)
        return check_reply(request, verdict, model.settings.spam_cutoff, self.version)

    def _tell(self, request: Request) -> bytes:
        if not self.settings.allow_tell:
            return error_reply(
                EX_UNAVAILABLE, "TELL commands are not enabled, set the --allow-tell switch."
            )
        to_set, to_remove = request.tell_flags("Set"), request.tell_flags("Remove")
        if "local" in to_set and "local" in to_remove:
            raise ProtocolError(
                EX_PROTOCOL, "Unable to set local and remove local in the same operation."
            )
        if "local" in to_remove:
            # An online update cannot be undone exactly; say so rather than pretend.
            return error_reply(EX_UNAVAILABLE, "spamclf cannot forget a learned message")
        if "local" not in to_set:
            return tell_reply(did_set=False)  # "remote" (Razor, Pyzor reports): no network here
        label = request.message_class
        if label not in {"spam", "ham"}:
            raise ProtocolError(EX_PROTOCOL, "(Message-class header contains invalid class)")
        with self._learn_lock:
            learned = self.model.learn(request.body, label)
            if learned and self.settings.save_learned:
                self.model.save(self.settings.save_learned)
        return tell_reply(did_set=learned)

    # --- sockets -----------------------------------------------------------------------------

    def _bind(self, address: str) -> socketserver.BaseServer:
        if "/" in address:
            path = Path(address)
            if path.exists() and stat.S_ISSOCK(path.stat().st_mode):
                path.unlink()  # a stale socket from a server that did not stop cleanly
            server: socketserver.BaseServer = _UnixServer(address, self)
            if self.settings.socket_mode is not None:
                path.chmod(self.settings.socket_mode)
            return server
        host, _, port = address.rpartition(":")
        host = host.strip("[]") or "127.0.0.1"
        try:
            port_number = int(port)
        except ValueError:
            raise SpamclfError(
                f"--listen {address!r}: expected HOST:PORT or a socket path"
            ) from None
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return _tcp_server_class(family)((host, port_number), self)  # type: ignore[arg-type]


class _Handler(socketserver.BaseRequestHandler):
    server: Any

    def handle(self) -> None:
        self.server.app.handle(self.request)


class _ServerMixin:
    """Each connection goes to the app's pool of threads, bounded by its slots.

    A pool rather than a thread per connection: starting a thread made the accepting thread
    wait for it each time, 15% of the server's samples under 16 clients (py-spy).
    """

    request_queue_size = 128

    def __init__(self, address: Any, app: SpamdServer) -> None:
        self.app = app
        super().__init__(address, _Handler)  # type: ignore[call-arg]

    def process_request(self, request: Any, client_address: Any) -> None:
        # Wait for a free slot before taking on another connection; stop waiting on shutdown.
        while not self.app._slots.acquire(timeout=0.2):
            if self.app._stopping.is_set():
                self.shutdown_request(request)  # type: ignore[attr-defined]
                return
        self.app._pool.submit(self._serve_one, request, client_address)

    def _serve_one(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)  # type: ignore[attr-defined]
        except Exception:
            self.handle_error(request, client_address)  # type: ignore[attr-defined]
        finally:
            self.shutdown_request(request)  # type: ignore[attr-defined]
            self.app._slots.release()


class _UnixServer(_ServerMixin, socketserver.UnixStreamServer):
    pass


def _tcp_server_class(family: int) -> type[socketserver.TCPServer]:
    class _TCPServer(_ServerMixin, socketserver.TCPServer):
        address_family = family
        allow_reuse_address = True

    return _TCPServer


class _DeadlineReader:
    """A buffered reader over a socket whose reads all end by one deadline."""

    def __init__(self, conn: socket.socket, deadline: float) -> None:
        self._conn = conn
        self._file = conn.makefile("rb")
        self._deadline = deadline

    def __enter__(self) -> _DeadlineReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._file.close()

    def _arm(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self._conn.settimeout(remaining)

    def readline(self, size: int = -1, /) -> bytes:
        self._arm()
        return self._file.readline(size)

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes (fewer at end of stream); ``size`` must be positive."""
        chunks = []
        while size > 0:
            self._arm()
            chunk = self._file.read1(min(size, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)


def _send_then_drain(conn: socket.socket, reply: bytes, deadline: float) -> None:
    """Refuse an oversized message so that the client reads the refusal: reply, then read and
    drop what it still sends (until the deadline), since closing a socket with unread input
    resets the connection and the client would see a reset instead of the reply."""
    try:
        conn.settimeout(max(deadline - time.monotonic(), 0.1))
        conn.sendall(reply)
        conn.shutdown(socket.SHUT_WR)
        while time.monotonic() < deadline and conn.recv(1 << 16):
            conn.settimeout(max(deadline - time.monotonic(), 0.1))
    except OSError:
        pass


def _describe(server: socketserver.BaseServer) -> str:
    address = server.server_address
    if isinstance(address, tuple):
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(address)


# Chinese text and an external relay: scoring it loads what the first real message would
# otherwise wait for (jieba's dictionary, the IP-to-country table; about 0.1 s).
_WARM_UP = (
    "Received: from relay.example.cn (relay.example.cn [61.152.3.4]) by mx.example.org;\n"
    " Tue, 21 Mar 2006 10:10:51 +0800\n"
    "Subject: warm-up\n"
    "Content-Type: text/html; charset=gb18030\n\n"
    '<p><a href="http://example.cn/">免费发票</a></p>\n'
).encode("gb18030")


def _load(path: Path) -> Model:
    """The model at ``path``, with everything scoring loads on first use already loaded."""
    from spamclf.persist import load_model

    model = load_model(path)
    model.classify(_WARM_UP)
    return model


def model_path(argument: str | None) -> Path:
    """The model to serve: ``--model``, else ``$SPAMCLF_MODEL``, else the bundled model."""
    from spamclf.api import default_model_path

    return Path(argument or os.environ.get("SPAMCLF_MODEL") or default_model_path())


# --- the command line ------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model file (default: the bundled model)")
    parser.add_argument(
        "--listen",
        action="append",
        metavar="ADDR",
        help=f"HOST:PORT or a Unix socket path (any ADDR with a /); repeat for several "
        f"(default {DEFAULT_LISTEN})",
    )
    parser.add_argument(
        "--max-size",
        type=int,
        default=ServerSettings.max_size,
        metavar="BYTES",
        help="largest message accepted (default %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=ServerSettings.timeout,
        metavar="S",
        help="seconds to read a request and send its reply (default %(default)s)",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=ServerSettings.max_connections,
        metavar="N",
        help="connections served at once (default %(default)s)",
    )
    parser.add_argument(
        "--allow-tell",
        action="store_true",
        help="let clients teach the model (spamc -L spam|ham), as spamd's switch",
    )
    parser.add_argument(
        "--save-learned",
        metavar="PATH",
        help="save the model there after every TELL that changed it",
    )
    parser.add_argument(
        "--socket-mode",
        type=lambda text: int(text, 8),
        metavar="OCTAL",
        help="permissions of Unix sockets, e.g. 660",
    )
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")


def serve_from_args(args: argparse.Namespace) -> int:
    """Run until SIGTERM or SIGINT; SIGHUP reloads the model."""
    logging.basicConfig(level=args.log_level.upper(), format="spamclf serve: %(message)s")
    settings = ServerSettings(
        listen=tuple(args.listen or (DEFAULT_LISTEN,)),
        max_size=args.max_size,
        timeout=args.timeout,
        max_connections=args.max_connections,
        allow_tell=args.allow_tell,
        save_learned=args.save_learned,
        socket_mode=args.socket_mode,
    )
    server = SpamdServer(model_path(args.model), settings)
    return run_until_signalled(server)


def run_until_signalled(server: SpamdServer) -> int:
    """Serve until SIGTERM or SIGINT (then stop cleanly and return 0); SIGHUP reloads."""
    # Any thread may receive a signal, and the main thread is blocked in a system call that
    # only a signal delivered to it would interrupt: a Python-level handler might then never
    # run (a burst of SIGHUPs left the server deaf to SIGTERM). The C-level handler writes
    # each signal's number to a wakeup pipe whichever thread it lands on; the loop reads them.
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signals = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    # Handlers go in before the sockets open: a client may signal as soon as it can connect.
    previous = {sig: signal.signal(sig, _noted_on_wakeup_pipe) for sig in signals}
    previous_fd = signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    try:
        _start(server)
        while True:
            select.select([wake_read], [], [])
            received = set(os.read(wake_read, 4096))
            # A stop outranks reloads; a burst of SIGHUPs is one reload, not a backlog of them.
            if received - {signal.SIGHUP}:
                server.stop()
                return 0
            if received:
                server.reload()
    finally:
        signal.set_wakeup_fd(previous_fd)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(wake_read)
        os.close(wake_write)


def _noted_on_wakeup_pipe(signum: int, frame: object) -> None:
    """Replaces the default action (SIGTERM would kill); the wakeup pipe carries the signal."""


def _start(server: SpamdServer) -> None:
    try:
        server.start()
    except (OSError, SpamclfError) as exc:
        server.stop()  # whatever did bind
        if isinstance(exc, SpamclfError):
            raise
        raise SpamclfError(f"cannot listen: {exc}") from exc
