"""``spamclf serve``: the spamd protocol on TCP and Unix sockets, one process, one event loop.

Why one thread with non-blocking sockets: scoring a message takes 1-2.5 ms of CPU and holds the
GIL, so threads never scored in parallel; they only kept slow clients (a spamc still sending a
large message) from holding up the others, which non-blocking reads do as well. What threads
cost was the GIL handed back and forth at every socket call. Interleaved runs on 2,000 messages
from the load benchmark, 16 clients speaking the protocol on raw sockets: the threaded server
spent 2.1-2.2 ms of CPU a request (for 1.1 ms of scoring) and answered 510-530 messages a
second with p99 59-60 ms; this loop spends 1.2 ms and answers 853-855 with p99 31-33 ms. Under
16 spamc clients, 484-504 -> 567-580 msg/s and p99 76-79 -> 42-44 ms. One model scores every
request, so ``TELL`` learns into the model that scores the next message.

The trade-off: while one message is scored, nothing else is read or written, so a message that
takes long to score delays the requests behind it by that long. The slowest measured were
messages of 10 MB (the default ``--max-size``): 0.18 s for Chinese text, under 0.1 s for HTML,
text, attachments or random bytes. With threads they delayed the others too, since scoring
holds the GIL, only in 5 ms slices. One server scores on one core; to use more, several share a
TCP port (``--reuse-port``), each with its own model.

Lifecycle: the model is loaded once; SIGHUP loads it again from the same file and swaps it in
(requests in flight finish with the model they started with; a file that fails to load leaves
the old model serving); SIGTERM or SIGINT stops accepting, lets requests in flight finish
(each is bounded by ``--timeout``), removes the Unix socket and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import ipaddress
import logging
import math
import os
import select
import selectors
import signal
import socket
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from spamclf.errors import ModelError, SpamclfError
from spamclf.model import Model
from spamclf.persist import check_can_save, load_model
from spamclf.spamd import (
    CHECK_METHODS,
    EX_CANTCREAT,
    EX_DATAERR,
    EX_PROTOCOL,
    EX_SOFTWARE,
    EX_TIMEOUT,
    EX_UNAVAILABLE,
    MAX_LINE,
    ProtocolError,
    Request,
    check_reply,
    error_reply,
    ping_reply,
    read_body,
    read_head,
    tell_reply,
)

__all__ = ["ServerSettings", "SpamdServer", "add_arguments", "serve_from_args"]

log = logging.getLogger("spamclf.server")

DEFAULT_LISTEN = "127.0.0.1:783"  # spamd's port
LISTEN_BACKLOG = 128
RECV_SIZE = 1 << 16
SEND_GRACE = 1.0  # seconds a reply may take to send, even when the request used up the timeout


@dataclass(frozen=True)
class ServerSettings:
    """How the server listens and what it tolerates.

    ``max_size`` bounds the message a client may send (spamc itself skips messages over its
    ``-s``, 500 KB by default); ``timeout`` bounds reading a whole request and writing the
    reply, so a client that stalls cannot hold a connection; ``max_connections`` bounds the
    connections open at once (more clients wait in the listen backlog). ``reuse_port`` lets
    several servers listen on one TCP port, the kernel sharing connections among them: one
    server scores on one core, so that is how to use more. ``allowed_ips`` (addresses and
    CIDR blocks, as spamd's ``--allowed-ips``) are the TCP clients that may connect; others are
    closed at once. None, the default, lets every client that reaches the port connect (the
    default port is on 127.0.0.1); Unix-socket clients are governed by ``socket_mode``.
    """

    listen: tuple[str, ...] = (DEFAULT_LISTEN,)
    max_size: int = 10_000_000
    timeout: float = 30.0
    max_connections: int = 64
    allow_tell: bool = False
    save_learned: str | None = None
    socket_mode: int | None = None
    reuse_port: bool = False
    allowed_ips: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        # No connection allowed made the loop spin on a listener it never accepts from; an
        # infinite or NaN timeout killed the serving thread at the first connection, leaving
        # a process that holds the port and answers no one.
        if not _whole(self.max_size) or self.max_size < 0:
            raise SpamclfError(f"max_size must be 0 or more bytes, got {self.max_size!r}")
        if not isinstance(self.timeout, (int, float)) or not 0.0 < self.timeout < math.inf:
            raise SpamclfError(
                f"timeout must be a positive number of seconds, got {self.timeout!r}"
            )
        if not _whole(self.max_connections) or self.max_connections < 1:
            raise SpamclfError(f"max_connections must be 1 or more, got {self.max_connections!r}")
        # A negative mode was taken as every bit set: -1 made the socket 7777, open to every
        # local user (and to their lessons, with --allow-tell).
        if self.socket_mode is not None and not (
            _whole(self.socket_mode) and 0 <= self.socket_mode <= 0o777
        ):
            raise SpamclfError(f"socket_mode must be 0 to 0o777, got {self.socket_mode!r}")
        if self.allowed_ips is not None:
            allowed_networks(self.allowed_ips)  # a typo stops the server at start, not later


def allowed_networks(
    allowed_ips: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The networks of ``allowed_ips`` (addresses or CIDR blocks); SpamclfError for a typo."""
    networks = []
    for text in allowed_ips:
        try:
            networks.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError as exc:
            raise SpamclfError(f"allowed_ips: {text!r} is no address or network") from exc
    return tuple(networks)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class SpamdServer:
    """Serves one model over the spamd protocol on every address in ``settings.listen``.

    ``start()`` binds and serves in a background thread; ``reload()`` swaps in a freshly loaded
    model; ``stop()`` stops accepting and waits for requests in flight.
    """

    def __init__(self, model_path: str | os.PathLike[str], settings: ServerSettings) -> None:
        from spamclf import __version__

        self.model_path = Path(model_path)
        self.settings = settings
        self.version = __version__
        self.model: Model = _load(self.model_path)
        self._learn_lock = threading.Lock()
        self._unsaved = False  # a lesson whose save failed, kept in memory only
        self._listeners: list[socket.socket] = []
        self._socket_files: dict[socket.socket, tuple[int, int] | None] = {}
        self._connections: dict[socket.socket, _Connection] = {}
        self._stopping = threading.Event()
        self._stop_lock = threading.Lock()
        self._stopped = False
        self._listening = False
        self._loop: threading.Thread | None = None
        self._allowed = (
            None if settings.allowed_ips is None else allowed_networks(settings.allowed_ips)
        )

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> list[str]:
        """Bind every address and serve; return the bound addresses (``host:port`` or path)."""
        if self.settings.save_learned:
            check_can_save(self.settings.save_learned)
        for address in self.settings.listen:
            listener = self._bind(address)
            listener.setblocking(False)
            self._listeners.append(listener)
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = socket.socketpair()  # stop() wakes the loop
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        self._selector.register(self._wake_read, selectors.EVENT_READ)
        self._accepting(True)
        self._loop = threading.Thread(target=self._serve, name="spamclf-serve", daemon=True)
        self._loop.start()
        bound = [_describe(listener) for listener in self._listeners]
        log.info("spamclf %s serving %s on %s", self.version, self.model_path, ", ".join(bound))
        return bound

    def reload(self) -> bool:
        """Load the model file again and serve with it; keep the old model if that fails."""
        # A TELL in progress finishes on the model it started with, and one that comes while
        # the file is read waits for the new model (holding up the loop, 0.1-0.2 s, as a save
        # does). Learned meanwhile on the old model, a lesson was saved to the file but missed
        # by the model swapped in, and the next save wrote the file without it.
        with self._learn_lock:
            try:
                model = _load(self.model_path)
            except SpamclfError as exc:
                log.error("reload failed, still serving the previous model: %s", exc)
                return False
            except Exception:  # a bug in loading must not take the serving model down with it
                log.exception("reload failed, still serving the previous model")
                return False
            self.model = model
            self._unsaved = False  # the lessons that were not saved went with the old model
        log.info("reloaded %s", self.model_path)
        return True

    def stop(self) -> None:
        """Stop accepting, wait for requests in flight, close and remove the sockets. A second
        call (a signal handler's and a ``finally``'s) does nothing: the first closed the
        sockets, and waking the loop again raised EBADF."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        self._stopping.set()
        if self._loop is None:  # start() failed part way: close whatever did bind
            self._close_listeners()
        else:
            self._wake()
            self._loop.join()  # it closes the listeners, then serves what is in flight
            self._selector.close()
            self._wake_read.close()
            self._wake_write.close()
        if self._unsaved:
            # A save failed (a full disk) and no lesson since saved: the last chance to keep
            # what was learned, which stopping would otherwise drop.
            self._save()
        log.info("stopped")

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError):  # full: already woken
            self._wake_write.send(b"\0")

    # --- the loop ----------------------------------------------------------------------------

    def _serve(self) -> None:
        while not (self._stopping.is_set() and not self._connections):
            for key, events in self._selector.select(self._next_timeout()):
                sock = key.fileobj
                if sock is self._wake_read:
                    self._woken()
                elif sock in self._connections:
                    self._step(self._connections[sock], events)
                elif sock in self._listeners:
                    self._accept(sock)  # type: ignore[arg-type]
            self._expire(time.monotonic())
        self._stop_listening()  # when stop() came before its wake-up was read

    def _next_timeout(self) -> float | None:
        if not self._connections:
            return None
        nearest = min(connection.deadline for connection in self._connections.values())
        return max(nearest - time.monotonic(), 0.0)

    def _woken(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self._wake_read.recv(4096)
        if self._stopping.is_set():
            self._stop_listening()

    def _stop_listening(self) -> None:
        self._accepting(False)
        self._close_listeners()

    def _accepting(self, on: bool) -> None:
        """Watch the listening sockets for new connections, or stop watching them."""
        if on == self._listening:
            return
        self._listening = on
        for listener in self._listeners:
            if on:
                self._selector.register(listener, selectors.EVENT_READ)
            else:
                self._selector.unregister(listener)

    def _close_listeners(self) -> None:
        for listener in self._listeners:
            address = listener.getsockname() if listener.family == socket.AF_UNIX else None
            listener.close()
            # Only the file this server made: one put there since is another server's.
            if address and _identity(Path(address)) == self._socket_files.get(listener):
                Path(address).unlink(missing_ok=True)
        self._listeners = []

    def _accept(self, listener: socket.socket) -> None:
        while len(self._connections) < self.settings.max_connections:
            try:
                sock, peer = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of file descriptors, a connection reset in the backlog
                log.warning("accept failed: %s", exc)
                return
            if not self._is_allowed(listener, peer):
                log.warning("refused a connection from %s: not in --allowed-ips", peer[0])
                sock.close()
                continue
            sock.setblocking(False)
            deadline = time.monotonic() + self.settings.timeout
            self._connections[sock] = _Connection(sock, deadline)
            self._selector.register(sock, selectors.EVENT_READ)
            if len(self._connections) == self.settings.max_connections:
                self._accepting(False)  # the rest wait in the listen backlog

    def _is_allowed(self, listener: socket.socket, peer: object) -> bool:
        if self._allowed is None or listener.family == socket.AF_UNIX:
            return True
        assert isinstance(peer, tuple)
        address = ipaddress.ip_address(peer[0].split("%", 1)[0])  # "fe80::1%eth0": no zone
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped  # an IPv4 client of a dual-stack socket
        return any(address in network for network in self._allowed)

    def _close(self, connection: _Connection) -> None:
        if self._connections.pop(connection.sock, None) is None:
            return  # closed already
        self._selector.unregister(connection.sock)
        connection.sock.close()
        if self._listeners:  # not stopping: a free slot takes the next connection waiting
            self._accepting(True)

    def _step(self, connection: _Connection, events: int) -> None:
        """Move one connection on after its socket became ready; never raises."""
        try:
            if connection.outbox is None:
                self._read(connection)
            elif events & selectors.EVENT_WRITE:
                self._write(connection)
            else:
                self._drain(connection)
        except OSError:
            self._close(connection)  # the client went away; nobody to answer
        except Exception:  # a bug must cost one connection, not the server
            log.exception("internal error")
            self._close(connection)

    def _read(self, connection: _Connection) -> None:
        data = connection.sock.recv(RECV_SIZE)
        if data:
            connection.inbox += data
        else:
            connection.at_eof = True
        if connection.request is None and not _may_end_a_line(connection, data):
            return  # the head reads as it did: no line of it can have ended
        connection.head_tried_at = len(connection.inbox)
        received = _Received(connection.inbox, connection.at_eof, connection.body_at)
        try:
            if connection.request is None:
                connection.request = read_head(received)
                connection.body_at = received.position
            request = connection.request
            request.body = read_body(received, request, self.settings.max_size)
        except _Incomplete:
            return
        except ProtocolError as exc:
            # An oversized message is refused before it is read: drain the rest after replying.
            self._reply(connection, exc.reply, drain=exc.code == EX_DATAERR)
            return
        try:
            reply = self._answer(request)
        except ProtocolError as exc:
            reply = exc.reply
        except Exception:  # a bug must cost one request, not the server
            log.exception("internal error")
            reply = error_reply(EX_SOFTWARE, "internal error")
        self._reply(connection, reply)

    def _reply(self, connection: _Connection, reply: bytes, drain: bool = False) -> None:
        connection.inbox = bytearray()
        connection.outbox = memoryview(reply)
        connection.drain = drain
        connection.deadline = max(connection.deadline, time.monotonic() + SEND_GRACE)
        self._selector.modify(connection.sock, selectors.EVENT_WRITE)
        self._write(connection)  # most replies fit the socket buffer at once

    def _write(self, connection: _Connection) -> None:
        assert connection.outbox is not None
        if connection.outbox:
            try:
                sent = connection.sock.send(connection.outbox)
            except BlockingIOError:
                return
            connection.outbox = connection.outbox[sent:]
        if connection.outbox:
            return
        if not connection.drain:
            self._close(connection)
            return
        # Closing a socket with unread input resets the connection, and the client would see
        # the reset instead of the refusal: read and drop what it still sends, until the
        # deadline or its end.
        connection.sock.shutdown(socket.SHUT_WR)
        self._selector.modify(connection.sock, selectors.EVENT_READ)

    def _drain(self, connection: _Connection) -> None:
        if not connection.sock.recv(RECV_SIZE):
            self._close(connection)

    def _expire(self, now: float) -> None:
        timeout = self.settings.timeout
        for connection in [c for c in self._connections.values() if c.deadline <= now]:
            try:
                if connection.outbox is None:  # still reading its request: say so
                    reply = error_reply(EX_TIMEOUT, f"({timeout:g} second socket timeout)")
                    self._reply(connection, reply)
                else:
                    self._close(connection)
            except OSError:
                self._close(connection)

    # --- one request -------------------------------------------------------------------------

    def _answer(self, request: Request) -> bytes:
        if request.method == "PING":
            return ping_reply()
        if request.method == "SKIP":
            return b""
        if request.method == "TELL":
            return self._tell(request)
        assert request.method in CHECK_METHODS
        model = self.model  # one model for the whole request, even if SIGHUP swaps it now
        started = time.perf_counter()
        # The body is a message as the client sent it, never a stored file: no decompression
        # or file-format check (spamclf.stored), which model.classify() would apply to bytes.
        verdict = model.classify_head(request.body, len(request.body))
        if log.isEnabledFor(logging.DEBUG):  # one line a request, as spamd logs its results
            log.debug(
                "%s: %s %.4f, %d bytes, %.1f ms",
                request.method,
                verdict.label,
                verdict.score,
                len(request.body),
                (time.perf_counter() - started) * 1000,
            )
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
            # Read as CHECK reads it (see _answer): what spamc -L teaches is what spamc scored,
            # never refused as an mbox or a stored file, which model.learn(bytes) would check.
            features = self.model.head_features(request.body, len(request.body))
            learned = self.model.learn(request.body, label, features=features)
            if learned and self.settings.save_learned and not self._save():
                return error_reply(EX_CANTCREAT, "learned, but the model could not be saved")
        return tell_reply(did_set=learned)

    def _save(self) -> bool:
        """Save the model to ``--save-learned``; say whether that worked."""
        assert self.settings.save_learned
        try:
            self.model.save(self.settings.save_learned)
        except ModelError as exc:  # the disk filled up, the folder went: not a bug
            log.error("learned, but the model was not saved: %s", exc)
            self._unsaved = True
            return False
        self._unsaved = False
        return True

    # --- sockets -----------------------------------------------------------------------------

    def _bind(self, address: str) -> socket.socket:
        if "/" in address:
            path = Path(address)
            if path.exists() and stat.S_ISSOCK(path.stat().st_mode):
                # A stale socket from a server that did not stop cleanly goes; a live one is
                # another server's. Taken over, it left that server serving no one there, and
                # this one removed the path when it stopped: mail went unfiltered.
                if _listening_at(address):
                    raise SpamclfError(f"--listen {address!r}: another server is listening there")
                path.unlink()
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                listener.bind(address)
                listener.listen(LISTEN_BACKLOG)
            except OSError:
                listener.close()
                raise
            if self.settings.socket_mode is not None:
                path.chmod(self.settings.socket_mode)
            self._socket_files[listener] = _identity(path)
            return listener
        host, _, port = address.rpartition(":")
        host = host.strip("[]") or "127.0.0.1"
        try:
            port_number = int(port)
        except ValueError:
            raise SpamclfError(
                f"--listen {address!r}: expected HOST:PORT or a socket path"
            ) from None
        if not 0 <= port_number <= 65535:
            raise SpamclfError(f"--listen {address!r}: a port is 0 to 65535")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return socket.create_server(
            (host, port_number),
            family=family,
            backlog=LISTEN_BACKLOG,
            reuse_port=self.settings.reuse_port,
        )


class _Incomplete(Exception):
    """More of the request is still to come."""


@dataclass(eq=False)
class _Connection:
    """One client: its request as received so far, then the reply still to send.

    ``outbox`` is None while the request is read; ``drain`` says to read and drop what the
    client still sends once the reply is out (after refusing an oversized message unread).
    ``request`` is its head once read whole, and ``body_at`` where the message starts in
    ``inbox``: the head is parsed once, not again at every chunk of the message. (Parsed again,
    2 MB of headers and then a message sent a byte at a time cost the loop 0.4 ms a byte, 40%
    of its core for one client.) Until then ``head_tried_at`` is how much had arrived when the
    head was last parsed (see :func:`_may_end_a_line`).
    """

    sock: socket.socket
    deadline: float
    inbox: bytearray = field(default_factory=bytearray)
    at_eof: bool = False
    request: Request | None = None
    body_at: int = 0
    head_tried_at: int = 0
    outbox: memoryview | None = None
    drain: bool = False


class _Received:
    """The bytes a connection has received from ``start`` on, read as a stream by
    :func:`read_head` and :func:`read_body`, which are run again from the start whenever more
    arrive: a read that needs bytes not yet received raises :class:`_Incomplete`; after the
    client's end of stream, reads return what there is. Parsing again costs a few header lines
    per chunk of the head, and keeps one parser for both."""

    def __init__(self, data: bytearray | bytes, at_eof: bool, start: int = 0) -> None:
        self._data = data
        self._at_eof = at_eof
        self._pos = start

    @property
    def position(self) -> int:
        """How far the reads have gone into the data."""
        return self._pos

    def readline(self, size: int = -1, /) -> bytes:
        """A line of at most ``size`` bytes; ``size`` must be positive (read_head's are)."""
        end = self._data.find(b"\n", self._pos, self._pos + size)
        if end >= 0:
            return self._take(end + 1 - self._pos)
        if len(self._data) - self._pos >= size or self._at_eof:
            return self._take(size)
        raise _Incomplete

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes (fewer at end of stream); ``size`` must be positive."""
        if len(self._data) - self._pos >= size or self._at_eof:
            return self._take(size)
        raise _Incomplete

    def _take(self, size: int) -> bytes:
        chunk = bytes(self._data[self._pos : self._pos + size])
        self._pos += len(chunk)
        return chunk


def _may_end_a_line(connection: _Connection, data: bytes) -> bool:
    """Whether ``data``, just received, can change how the head reads: a head is lines, so only
    a line end, the end of the stream, or a line grown past ``MAX_LINE`` (refused as too long)
    can. Parsed again at every chunk instead, 2 MB of headers sent 300 bytes at a time cost the
    loop 1.5 s of CPU in 4 s; now it is parsed at most once a line or a ``MAX_LINE`` of bytes."""
    return not data or b"\n" in data or len(connection.inbox) >= connection.head_tried_at + MAX_LINE


def _listening_at(path: str) -> bool:
    """Whether a server may be listening on the Unix socket at ``path``: only a refused
    connection says none is (a full backlog is a busy server; no permission to connect, maybe
    another user's)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.setblocking(False)
        return probe.connect_ex(path) not in {errno.ECONNREFUSED, errno.ENOENT}


def _identity(path: Path) -> tuple[int, int] | None:
    """The file at ``path`` (device and inode), or None if there is none."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _describe(listener: socket.socket) -> str:
    address = listener.getsockname()
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
    model = load_model(path)
    model.classify(_WARM_UP)
    return model


def model_path(argument: str | None) -> Path:
    """The model to serve: ``--model``, else ``$SPAMCLF_MODEL``, else the bundled model."""
    from spamclf.api import default_model_path

    return Path(argument or os.environ.get("SPAMCLF_MODEL") or default_model_path())


# --- the command line ------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from spamclf.cli import number_argument

    size = number_argument(int, lambda n: n >= 0, "0 or more")
    seconds = number_argument(float, lambda x: 0.0 < x < math.inf, "a positive number")
    connections = number_argument(int, lambda n: n >= 1, "1 or more")
    mode = number_argument(lambda text: int(text, 8), lambda n: 0 <= n <= 0o777, "000 to 777")
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
        type=size,
        default=ServerSettings.max_size,
        metavar="BYTES",
        help="largest message accepted (default %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=ServerSettings.timeout,
        metavar="S",
        help="seconds to read a request and send its reply (default %(default)s)",
    )
    parser.add_argument(
        "--max-connections",
        type=connections,
        default=ServerSettings.max_connections,
        metavar="N",
        help="connections open at once; more wait in the listen backlog (default %(default)s)",
    )
    parser.add_argument(
        "--allow-tell",
        action="store_true",
        help="let clients teach the model (spamc -L spam|ham), as spamd's switch",
    )
    parser.add_argument(
        "--allowed-ips",
        action="append",
        metavar="IP[,IP...]",
        help="TCP clients that may connect: addresses or CIDR blocks, comma-separated or "
        "repeated, as spamd's switch (default: any that reaches --listen)",
    )
    parser.add_argument(
        "--save-learned",
        metavar="PATH",
        help="save the model there after every TELL that changed it",
    )
    parser.add_argument(
        "--socket-mode",
        type=mode,
        metavar="OCTAL",
        help="permissions of Unix sockets, e.g. 660",
    )
    parser.add_argument(
        "--reuse-port",
        action="store_true",
        help="let several servers listen on the same TCP port (SO_REUSEPORT), the kernel "
        "sharing connections among them: one server per core",
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
        default="INFO",
        help="logging level (default INFO)",
    )


def serve_from_args(args: argparse.Namespace) -> int:
    """Run until SIGTERM or SIGINT; SIGHUP reloads the model."""
    logging.basicConfig(level=args.log_level.upper(), format="spamclf serve: %(message)s")
    server = SpamdServer(model_path(args.model), settings_from_args(args))
    return run_until_signalled(server)


def settings_from_args(args: argparse.Namespace) -> ServerSettings:
    """The settings that ``spamclf serve``'s arguments ask for."""
    return ServerSettings(
        listen=tuple(args.listen or (DEFAULT_LISTEN,)),
        max_size=args.max_size,
        timeout=args.timeout,
        max_connections=args.max_connections,
        allow_tell=args.allow_tell,
        save_learned=args.save_learned,
        socket_mode=args.socket_mode,
        reuse_port=args.reuse_port,
        allowed_ips=None
        if args.allowed_ips is None
        else tuple(ip.strip() for arg in args.allowed_ips for ip in arg.split(",") if ip.strip()),
    )


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
