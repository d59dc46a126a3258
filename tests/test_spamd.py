"""Tests of spamclf.spamd (the protocol, byte for byte) and of ``spamclf serve`` end to end with
the real ``spamc`` client from Debian's ``spamc`` package (CI installs it: .ci/run)."""

from __future__ import annotations

import argparse
import errno
import hashlib
import io
import json
import logging
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import ALL_FIXTURES, fixture_path

from spamclf import __version__
from spamclf.cli import EXIT_INPUT, EXIT_MODEL, main
from spamclf.errors import ModelError, SpamclfError
from spamclf.model import Model
from spamclf.mta import add_headers, format_score, spam_headers, spamd_score
from spamclf.persist import card_path
from spamclf.server import ServerSettings, SpamdServer
from spamclf.spamd import (
    EX_DATAERR,
    EX_PROTOCOL,
    EX_UNAVAILABLE,
    ProtocolError,
    Request,
    check_reply,
    read_request,
    tell_reply,
)

SPAMC = shutil.which("spamc")
ROOT = Path(__file__).resolve().parent.parent


def spamc(*args: str, message: bytes = b"", timeout: float = 20) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    assert SPAMC, "these tests need spamc from Debian's spamc package (.ci/run installs it)"
    return subprocess.run(
        [SPAMC, *args], input=message, capture_output=True, timeout=timeout, check=False
    )


def request(address: str | tuple[str, int], data: bytes, *, half_close: bool = True) -> bytes:
    """Send raw bytes to the server and return everything it answers."""
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as conn:
        conn.settimeout(10)
        conn.connect(address)
        conn.sendall(data)
        if half_close:
            conn.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def spamc_request(method: str, message: bytes, **headers: str) -> bytes:
    lines = [f"{method} SPAMC/1.5", f"Content-length: {len(message)}", "User: test"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + message


# --- the protocol, without sockets ----------------------------------------------------------


def test_read_request_parses_what_spamc_sends() -> None:
    stream = io.BytesIO(spamc_request("PROCESS", b"Subject: x\n\nhi\n"))
    parsed = read_request(stream, max_size=1000)
    assert (parsed.method, parsed.version, parsed.body) == ("PROCESS", 1.5, b"Subject: x\n\nhi\n")
    assert parsed.headers["User"] == "test"


def test_read_request_takes_off_the_block_spamclf_added_before() -> None:
    message = b"Subject: x\n\nhi\n"
    status = "No, score=0.1 required=5.0 label=ham probability=0.0100 version=spamclf-0.1.0"
    fields = [("X-Spam-Flag", "NO"), ("X-Spam-Score", "0.1"), ("X-Spam-Level", "")]
    fields += [("X-Spam-Status", status), ("X-Spamclf-Reasons", "none")]
    stream = io.BytesIO(spamc_request("PROCESS", add_headers(message, fields)))
    assert read_request(stream, max_size=1000).body == message


def test_read_request_inflates_zlib() -> None:
    body = b"Subject: x\n\n" + b"hello " * 1000
    data = zlib.compress(body)
    raw = f"CHECK SPAMC/1.5\r\nContent-length: {len(data)}\r\nCompress: zlib\r\n\r\n"
    assert read_request(io.BytesIO(raw.encode() + data), max_size=10_000).body == body


@pytest.mark.parametrize(
    ("raw", "code", "text"),
    [
        (b"", EX_PROTOCOL, b"(closed before headers)"),
        (b"GET / HTTP/1.1\r\n\r\n", EX_PROTOCOL, b"GET / HTTP/1.1"),
        (b"CHECK SPAMC/x\r\n\r\n", EX_PROTOCOL, b"CHECK SPAMC/x"),
        (b"FROB SPAMC/1.5\r\n\r\n", EX_PROTOCOL, b"FROB"),
        (b"CHECK SPAMC/1.5\r\nContent-length: 5", EX_PROTOCOL, b"(EOF during headers)"),
        (b"CHECK SPAMC/1.5\r\nno colon\r\n\r\n", EX_PROTOCOL, b"'Name: value'"),
        (b"CHECK SPAMC/1.5\r\nContent-length: -1\r\n\r\n", EX_PROTOCOL, b"non-numeric"),
        # "²" is a digit to str.isdigit() (headers are read as Latin-1), not to int()
        (b"CHECK SPAMC/1.5\r\nContent-length: \xb2\r\n\r\n", EX_PROTOCOL, b"non-numeric"),
        (b"CHECK SPAMC/1.5\r\nContent-length: 9\r\n\r\nabc", EX_PROTOCOL, b"mismatch"),
        (b"CHECK SPAMC/1.5\r\nContent-length: 99999\r\n\r\n", EX_DATAERR, b"over 1000"),
        (b"CHECK SPAMC/1.5\r\n\r\n" + b"x" * 2000, EX_DATAERR, b"over 1000"),
        (b"CHECK SPAMC/1.5\r\n" + b"A: b\r\n" * 300 + b"\r\n", EX_PROTOCOL, b"too many"),
        (b"CHECK SPAMC/1.5\r\nA: " + b"b" * 20000 + b"\r\n\r\n", EX_PROTOCOL, b"too long"),
        (b"CHECK SPAMC/1.5\r\nCompress: lzma\r\n\r\n", EX_PROTOCOL, b"compression"),
        (b"CHECK SPAMC/1.5\r\nCompress: zlib\r\n\r\n", EX_UNAVAILABLE, b"Content-length"),
        (
            b"CHECK SPAMC/1.5\r\nContent-length: 3\r\nCompress: zlib\r\n\r\nabc",
            EX_UNAVAILABLE,
            b"zlib",
        ),
        (b"\xff\x00\x1b\r\n\r\n", EX_PROTOCOL, b"\\x00\\x1b"),
    ],
)
def test_read_request_refuses_malformed_requests(raw: bytes, code: int, text: bytes) -> None:
    with pytest.raises(ProtocolError) as caught:
        read_request(io.BytesIO(raw), max_size=1000)
    reply = caught.value.reply
    assert reply.startswith(f"SPAMD/1.0 {code} ".encode()) and reply.endswith(b"\r\n")
    assert text in reply
    assert re.fullmatch(rb"[\x20-\x7e]*\r\n", reply)


def test_zlib_bomb_stops_at_the_size_limit() -> None:
    data = zlib.compress(b"\0" * 5_000_000)
    raw = f"CHECK SPAMC/1.5\r\nContent-length: {len(data)}\r\nCompress: zlib\r\n\r\n".encode()
    with pytest.raises(ProtocolError) as caught:
        read_request(io.BytesIO(raw + data), max_size=100_000)
    assert caught.value.code == EX_DATAERR


def _replies(model: Model, method: str, version: float, message: bytes) -> bytes:
    verdict = model.classify(message)
    return check_reply(Request(method, version, {}, message), verdict, 0.98, "0.1.0")


@pytest.mark.parametrize("version", [1.2, 1.3, 1.5])
def test_check_reply_is_what_spamd_writes(small_model: Model, version: float) -> None:
    message = fixture_path("examples/spam").read_bytes()
    verdict = small_model.classify(message)
    score = format_score(spamd_score(verdict.score, 0.98), verdict.is_spam)
    flag = "True" if verdict.is_spam else "False"
    expected = f"SPAMD/1.1 0 EX_OK\r\nSpam: {flag} ; {score} / 5.0\r\n\r\n".encode()
    assert _replies(small_model, "CHECK", version, message) == expected


def test_process_reply_has_content_length_and_the_filtered_message(small_model: Model) -> None:
    message = fixture_path("utf8_crlf").read_bytes()
    reply = _replies(small_model, "PROCESS", 1.5, message)
    head, _, body = reply.partition(b"\r\n\r\n")
    status, length, spam = head.split(b"\r\n")
    assert status == b"SPAMD/1.1 0 EX_OK"
    assert length == f"Content-length: {len(body)}".encode()
    assert spam.startswith(b"Spam: ")
    fields = spam_headers(small_model.classify(message), 0.98, "0.1.0")
    assert body == add_headers(message, fields)


def test_headers_reply_is_the_header_block(small_model: Model) -> None:
    message = fixture_path("english_ham").read_bytes()
    body = _replies(small_model, "HEADERS", 1.5, message).split(b"\r\n\r\n", 1)[1]
    assert body.endswith(b"\n\n") and body.count(b"\n\n") == 1
    assert message.startswith(body.split(b"X-Spamclf-Reasons: ")[1].split(b"\n", 1)[1])


def test_old_clients_get_old_reply_shapes(small_model: Model) -> None:
    message = b"Subject: hi\n\nhello\n"
    assert _replies(small_model, "PROCESS", 1.0, message).startswith(b"SPAMD/1.0 0 EX_OK\r\nX-Spam")
    symbols = _replies(small_model, "SYMBOLS", 1.2, message)
    assert b"Content-length" not in symbols and symbols.endswith(b"\r\n")


def test_tell_reply_is_byte_compatible() -> None:
    assert tell_reply(True) == b"SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\n\r\n\r\n"
    assert tell_reply(False) == b"SPAMD/1.1 0 EX_OK\r\n\r\n\r\n"


# --- the server, in this process, with the real spamc ---------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Running:
    def __init__(self, server: SpamdServer, port: int, path: str) -> None:
        self.server, self.port, self.path = server, port, path
        self.tcp = ("-d", "127.0.0.1", "-p", str(port))
        self.unix = ("-U", path)


def _start(model_path: Path, folder: Path, **settings: object) -> Running:
    port = _free_port()
    path = str(folder / "spamd.sock")
    listen = (f"127.0.0.1:{port}", path)
    server = SpamdServer(model_path, ServerSettings(listen=listen, **settings))  # type: ignore[arg-type]
    server.start()
    return Running(server, port, path)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory, small_model: Model) -> Path:
    # A lower cutoff than the shipped 0.99, so that the small test model calls the spam spam.
    path = tmp_path_factory.mktemp("model") / "small.spamclf"
    small_model.with_settings(spam_cutoff=0.7).save(path)
    return path


@pytest.fixture(scope="module")
def served_model(model_file: Path) -> Model:
    from spamclf.persist import load_model

    return load_model(model_file)


@pytest.fixture(scope="module")
def running(model_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    live = _start(model_file, tmp_path_factory.mktemp("sock"), max_size=200_000, timeout=1.0)
    yield live
    live.server.stop()


@pytest.mark.parametrize("where", ["tcp", "unix"])
@pytest.mark.parametrize("name", ["examples/spam", "examples/ham", "gb2312_spam", "binary_junk"])
def test_spamc_check_prints_score_and_exits_1_for_spam(
    running: Running, served_model: Model, name: str, where: str
) -> None:
    message = fixture_path(name).read_bytes()
    verdict = served_model.classify(message)
    result = spamc(*getattr(running, where), "-c", message=message)
    score = format_score(spamd_score(verdict.score, 0.7), verdict.is_spam)
    assert result.stdout == f"{score}/5.0\n".encode()
    assert result.returncode == (1 if verdict.is_spam else 0)


# spamc itself sends no empty message (it exits 74 before connecting): "empty" is left out.
@pytest.mark.parametrize("form", ["LF", "CRLF"])
@pytest.mark.parametrize(
    "name", [n for n in (*ALL_FIXTURES, "examples/spam", "examples/ham") if n != "empty"]
)
def test_spamc_process_adds_the_filter_headers(
    running: Running, served_model: Model, name: str, form: str
) -> None:
    message = fixture_path(name).read_bytes().replace(b"\r\n", b"\n")
    if form == "CRLF":
        message = message.replace(b"\n", b"\r\n")
    result = spamc(*running.tcp, "-x", message=message)
    assert result.returncode == 0, result.stderr
    fields = spam_headers(served_model.classify(message), 0.7, __version__)
    assert result.stdout == add_headers(message, fields)


def test_spamc_headers_mode_gives_the_same_message(running: Running, served_model: Model) -> None:
    message = fixture_path("nested_multipart").read_bytes()
    result = spamc(*running.unix, "--headers", "-x", message=message)
    fields = spam_headers(served_model.classify(message), 0.7, __version__)
    assert result.returncode == 0
    assert result.stdout == add_headers(message, fields)


def test_spamc_report_symbols_and_exit_code_modes(running: Running, served_model: Model) -> None:
    spam = fixture_path("gb2312_spam").read_bytes()
    ham = fixture_path("gb2312_ham").read_bytes()
    assert served_model.classify(spam).is_spam and not served_model.classify(ham).is_spam
    report = spamc(*running.tcp, "-R", message=spam)
    assert report.returncode == 0  # spamc sets the exit code for -c and -E only
    first, rest = report.stdout.split(b"\n", 1)
    assert re.fullmatch(rb"\d+\.\d/5\.0", first)
    assert b"Content analysis details" in rest and b"points, 5.0 required" in rest
    assert spamc(*running.tcp, "-r", message=ham).stdout == b""
    assert spamc(*running.tcp, "-r", message=spam).stdout == rest  # -r: the report alone
    symbols = spamc(*running.tcp, "-y", message=spam)
    assert symbols.stdout.startswith(b"SPAMCLF_SPAM,")
    assert spamc(*running.tcp, "-E", message=spam).returncode == 1
    assert spamc(*running.tcp, "-E", message=ham).returncode == 0
    # Debian's spamc is built without zlib (-z is a usage error): Compress is unit-tested above.


def test_spamc_ping(running: Running) -> None:
    result = spamc(*running.tcp, "-K")
    assert result.returncode == 0 and result.stdout.startswith(b"SPAMD/1.5 0")


def test_spamc_skips_messages_over_its_limit_unchanged(running: Running) -> None:
    message = fixture_path("english_ham").read_bytes() + b"x" * 5000
    result = spamc(*running.tcp, "-s", "1000", message=message)
    assert result.returncode == 0 and result.stdout == message


def test_server_refuses_messages_over_max_size_and_spamc_passes_them_through(
    running: Running,
) -> None:
    message = b"Subject: big\n\n" + b"y" * 300_000
    assert request(running.path, spamc_request("CHECK", message)).startswith(b"SPAMD/1.0 65 ")
    result = spamc(*running.tcp, "-s", "1000000", message=message)
    assert result.stdout == message


def test_sixteen_concurrent_spamc_clients_all_get_answers(
    running: Running, served_model: Model
) -> None:
    messages = [fixture_path(name).read_bytes() for name in ALL_FIXTURES[:16]]
    results: list[subprocess.CompletedProcess | None] = [None] * 16  # type: ignore[type-arg]

    def check(i: int) -> None:
        results[i] = spamc(*running.tcp, "-c", "-x", message=messages[i])

    threads = [threading.Thread(target=check, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for message, result in zip(messages, results, strict=True):
        assert result is not None
        verdict = served_model.classify(message)
        assert result.returncode == (1 if verdict.is_spam else 0), result.stderr


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\r\n",
        b"GET / HTTP/1.0\r\n\r\n",
        b"\x00" * 100,
        b"CHECK SPAMC/1.5\r\nContent-length: 100\r\n\r\nshort",
        b"PROCESS SPAMC/1.5\r\nContent-length: 10\r\nCompress: zlib\r\n\r\n0123456789",
        b"TELL SPAMC/1.5\r\nContent-length: 0\r\n\r\n",
        b"CHECK SPAMC/" + b"9" * 5000 + b"\r\n",
        os.urandom(3000),
    ],
)
def test_server_answers_malformed_requests_and_keeps_serving(running: Running, data: bytes) -> None:
    reply = request(running.path, data)
    assert reply == b"" or re.fullmatch(rb"SPAMD/1\.0 \d+ [\x20-\x7e]*\r\n", reply), reply
    assert request(running.path, b"PING SPAMC/1.5\r\n\r\n") == b"SPAMD/1.5 0 PONG\r\n"


@pytest.mark.parametrize(
    "body",
    [b"\x1f\x8b\x08 gzip-like", b"\x28\xb5\x2f\xfd zstd-like", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"],
)
def test_a_body_that_opens_like_a_stored_file_gets_a_verdict(running: Running, body: bytes) -> None:
    # classify() reads such bytes as a compressed file or refuses them (spamclf.stored); a
    # client sends a message as it is, so spamd scores the bytes, as it did before.
    reply = request(running.path, spamc_request("CHECK", body))
    assert reply.startswith(b"SPAMD/1.1 0 EX_OK\r\n") and b"Spam: " in reply, reply


def test_server_times_out_a_stalled_client(running: Running) -> None:
    start = time.monotonic()
    reply = request(
        running.path, b"CHECK SPAMC/1.5\r\nContent-length: 50\r\n\r\nabc", half_close=False
    )
    assert reply.startswith(b"SPAMD/1.0 79 Timeout")
    assert time.monotonic() - start < 5


def test_a_stalled_client_does_not_hold_up_the_others(running: Running) -> None:
    message = fixture_path("examples/ham").read_bytes()
    expected = request(running.path, spamc_request("CHECK", message))
    with socket.socket(socket.AF_UNIX) as stalled:
        stalled.connect(running.path)
        stalled.sendall(spamc_request("CHECK", message)[:20])
        start = time.monotonic()
        assert request(running.path, spamc_request("CHECK", message)) == expected
        assert time.monotonic() - start < 0.5  # well inside the stalled client's 1 s timeout


def test_requests_and_replies_larger_than_a_socket_read_arrive_whole(
    running: Running, served_model: Model
) -> None:
    # 150 KB in and out: read in many pieces, written back in several (PROCESS echoes it).
    message = fixture_path("english_ham").read_bytes() + b"lorem ipsum dolor\n" * 8000
    verdict = served_model.classify(message)
    headers = spam_headers(verdict, served_model.settings.spam_cutoff, __version__)
    reply = request(running.path, spamc_request("PROCESS", message))
    assert reply.endswith(b"\r\n\r\n" + add_headers(message, headers))


def test_a_request_without_content_length_ends_with_the_client_stream(running: Running) -> None:
    message = fixture_path("examples/spam").read_bytes()
    with_length = request(running.path, spamc_request("CHECK", message))
    without = request(running.path, b"CHECK SPAMC/1.2\r\nUser: test\r\n\r\n" + message)
    assert without == with_length


def test_connections_over_the_limit_wait_for_a_free_one(model_file: Path, tmp_path: Path) -> None:
    live = _start(model_file, tmp_path, max_connections=2, timeout=1.0)
    try:
        stalled = [socket.socket(socket.AF_UNIX) for _ in range(2)]
        for conn in stalled:
            conn.connect(live.path)
            conn.sendall(b"CHECK SPAMC/1.5\r\n")
        time.sleep(0.2)  # both accepted: the server is at its limit
        start = time.monotonic()
        assert request(live.path, b"PING SPAMC/1.5\r\n\r\n") == b"SPAMD/1.5 0 PONG\r\n"
        assert time.monotonic() - start > 0.5  # it waited for a stalled client to time out
        for conn in stalled:
            assert conn.recv(200).startswith(b"SPAMD/1.0 79 Timeout")
            conn.close()
    finally:
        live.server.stop()


def test_stop_at_the_connection_limit_finishes_what_is_in_flight(
    model_file: Path, tmp_path: Path
) -> None:
    live = _start(model_file, tmp_path, max_connections=1, timeout=1.0)
    with socket.socket(socket.AF_UNIX) as stalled:
        stalled.settimeout(5)
        stalled.connect(live.path)
        stalled.sendall(b"CHECK SPAMC/1.5\r\n")
        time.sleep(0.2)  # accepted: the server is at its limit and no longer listens
        start = time.monotonic()
        live.server.stop()
        assert time.monotonic() - start < 3
        assert stalled.recv(200).startswith(b"SPAMD/1.0 79 Timeout")
    assert not Path(live.path).exists()


def test_a_bug_costs_one_connection_not_the_server(
    running: Running, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import spamclf.server

    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(spamclf.server, "read_head", broken)
    assert request(running.path, b"PING SPAMC/1.5\r\n\r\n") == b""
    assert "internal error" in caplog.text
    monkeypatch.undo()
    assert request(running.path, b"PING SPAMC/1.5\r\n\r\n") == b"SPAMD/1.5 0 PONG\r\n"


def test_servers_with_reuse_port_share_one_port(model_file: Path, tmp_path: Path) -> None:
    port = _free_port()
    settings = ServerSettings(listen=(f"127.0.0.1:{port}",), reuse_port=True)
    servers = [SpamdServer(model_file, settings) for _ in range(2)]
    for server in servers:
        server.start()  # the second would fail with "address in use" without reuse_port
    try:
        for _ in range(8):
            reply = request(("127.0.0.1", port), b"PING SPAMC/1.5\r\n\r\n")
            assert reply == b"SPAMD/1.5 0 PONG\r\n"
    finally:
        for server in servers:
            server.stop()


def test_allowed_ips_close_other_tcp_clients_at_once(model_file: Path, tmp_path: Path) -> None:
    # spamd's --allowed-ips: a server listening beyond loopback answers only the clients named.
    ping = b"PING SPAMC/1.5\r\n\r\n"
    live = _start(model_file, tmp_path, allowed_ips=("10.0.0.0/8", "2001:db8::/32"))
    try:
        try:
            answer = request(("127.0.0.1", live.port), ping)
        except OSError as error:
            # Closed before the client was done: a reset, or, where it came before the client
            # shut its side, nothing connected left to shut down (ENOTCONN).
            assert isinstance(error, ConnectionError) or error.errno == errno.ENOTCONN, error
            answer = b""
        assert answer == b""
        assert request(live.path, ping) == b"SPAMD/1.5 0 PONG\r\n"  # Unix sockets: socket_mode
    finally:
        live.server.stop()
    live = _start(model_file, tmp_path, allowed_ips=("192.0.2.1", "127.0.0.0/8"))
    try:
        assert request(("127.0.0.1", live.port), ping) == b"SPAMD/1.5 0 PONG\r\n"
    finally:
        live.server.stop()


@pytest.mark.parametrize("allowed", [("10.0.0.0/33",), ("localhost",), ("",)])
def test_allowed_ips_typo_stops_the_server_at_start(allowed: tuple[str, ...]) -> None:
    with pytest.raises(SpamclfError, match="allowed_ips"):
        ServerSettings(allowed_ips=allowed)


def test_allowed_ips_on_the_command_line_split_at_commas() -> None:
    import argparse

    from spamclf.server import add_arguments, settings_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--allowed-ips", "127.0.0.1, 10.0.0.0/8", "--allowed-ips", "::1"])
    assert settings_from_args(args).allowed_ips == ("127.0.0.1", "10.0.0.0/8", "::1")
    assert settings_from_args(parser.parse_args([])).allowed_ips is None


def test_stop_twice_is_stop_once(model_file: Path, tmp_path: Path) -> None:
    # A signal handler's stop() and a finally's: the second woke a closed loop (EBADF).
    live = _start(model_file, tmp_path)
    live.server.stop()
    live.server.stop()
    assert not Path(live.path).exists()


def test_a_second_server_on_a_live_unix_socket_leaves_it_to_the_first(
    model_file: Path, tmp_path: Path
) -> None:
    # The second took the path over, leaving the first serving no one there, then removed it
    # when it stopped: spamc found no server at all.
    with socket.socket(socket.AF_UNIX) as gone:  # a server that did not stop cleanly
        gone.bind(str(tmp_path / "spamd.sock"))
    live = _start(model_file, tmp_path)  # takes the stale socket's place
    second = SpamdServer(model_file, ServerSettings(listen=(live.path,)))
    with pytest.raises(SpamclfError, match="another server is listening"):
        second.start()
    second.stop()
    assert request(live.path, b"PING SPAMC/1.5\r\n\r\n") == b"SPAMD/1.5 0 PONG\r\n"
    # A socket put at the path since is another server's: stopping leaves it there.
    Path(live.path).unlink()
    with socket.socket(socket.AF_UNIX) as other:
        other.bind(live.path)
        live.server.stop()
        assert Path(live.path).exists()


def test_a_client_that_never_reads_its_reply_holds_up_nobody(
    model_file: Path, tmp_path: Path
) -> None:
    # A 3 MB reply overfills the socket buffers: the rest waits for a reader that never comes.
    live = _start(model_file, tmp_path, max_size=5_000_000, timeout=5.0)
    message = b"Subject: big\n\n" + b"lorem ipsum dolor sit amet\n" * 110_000
    try:
        with socket.socket(socket.AF_UNIX) as idle:
            idle.connect(live.path)
            idle.sendall(spamc_request("PROCESS", message))
            idle.shutdown(socket.SHUT_WR)
            time.sleep(0.5)  # scored; its reply is stuck
            start = time.monotonic()
            assert request(live.path, b"PING SPAMC/1.5\r\n\r\n") == b"SPAMD/1.5 0 PONG\r\n"
            assert time.monotonic() - start < 0.5
    finally:
        live.server.stop()


def test_a_request_sent_in_pieces_is_not_parsed_again_at_every_piece(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parsed again from the start whenever bytes arrived, 2 MB of headers sent 300 bytes at a
    # time cost the loop 1.5 s of CPU in 4 s, and a message sent a byte at a time after them
    # 0.4 ms a byte: one slow client took 40% of the server's core.
    import spamclf.spamd

    parsed = []
    read_headers = spamclf.spamd._read_headers

    def counted(stream: object) -> dict[str, str]:
        parsed.append(1)
        return read_headers(stream)  # type: ignore[arg-type]

    monkeypatch.setattr(spamclf.spamd, "_read_headers", counted)
    message = fixture_path("english_ham").read_bytes()
    pieces = [b"CHECK SPAMC/1.5\r\nUser: "] + [b"u" * 300] * 10  # a long line, in pieces
    pieces += [f"\r\nContent-length: {len(message)}\r\n\r\n".encode()]
    pieces += [message[i : i + 100] for i in range(0, len(message), 100)][:10]
    pieces += [message[1000:]]
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(5)
        conn.connect(running.path)
        for piece in pieces:
            conn.sendall(piece)
            time.sleep(0.005)  # each piece its own read
        assert conn.recv(200).startswith(b"SPAMD/1.1 0 EX_OK")
    assert len(parsed) <= 2  # once a line ended, then once the head was whole


def test_a_client_that_leaves_mid_request_costs_nothing(running: Running) -> None:
    for _ in range(10):
        with socket.socket(socket.AF_UNIX) as gone:
            gone.connect(running.path)
            gone.sendall(spamc_request("CHECK", b"Subject: x\n\n" + b"y" * 5000)[:2000])
    assert request(running.path, b"PING SPAMC/1.5\r\n\r\n") == b"SPAMD/1.5 0 PONG\r\n"


def test_debug_logging_writes_one_line_a_request(
    running: Running, served_model: Model, caplog: pytest.LogCaptureFixture
) -> None:
    message = fixture_path("examples/spam").read_bytes()
    verdict = served_model.classify(message)
    with caplog.at_level(logging.DEBUG, logger="spamclf.server"):
        request(running.path, spamc_request("SYMBOLS", message))
    assert f"SYMBOLS: {verdict.label} {verdict.score:.4f}, {len(message)} bytes" in caplog.text


def test_tell_is_refused_unless_allowed(running: Running) -> None:
    result = spamc(*running.tcp, "-L", "spam", message=fixture_path("english_ham").read_bytes())
    assert result.returncode != 0
    reply = request(running.path, spamc_request("TELL", b"x", Message_class="spam", Set="local"))
    assert reply.startswith(b"SPAMD/1.0 69 Service Unavailable: TELL commands are not enabled")


def test_spamc_learn_teaches_the_served_model(model_file: Path, tmp_path: Path) -> None:
    saved = tmp_path / "learned.spamclf"
    live = _start(model_file, tmp_path, allow_tell=True, save_learned=str(saved))
    try:
        message = fixture_path("english_ham").read_bytes()
        before = live.server.model.classify(message).score
        first = spamc(*live.tcp, "-L", "spam", message=message)
        assert first.returncode == 0 and first.stdout == b"Message successfully un/learned\n"
        after = live.server.model.classify(message)
        assert after.score > before and after.is_spam
        # One capped step may not reach the margin; "already" means the model labels it as taught.
        for _ in range(20):
            again = spamc(*live.unix, "-L", "spam", message=message)
            if again.stdout == b"Message was already un/learned\n":
                break
        assert again.stdout == b"Message was already un/learned\n"
        after = live.server.model.classify(message)
        from spamclf.persist import load_model

        assert load_model(saved).classify(message).score == pytest.approx(after.score)
        forget = spamc(*live.tcp, "-L", "forget", message=message)
        assert forget.returncode != 0  # a learned message cannot be forgotten, and spamc says so
    finally:
        live.server.stop()
    assert not Path(live.path).exists()


@pytest.mark.parametrize(
    "body",
    [
        # A bounce or forward quoting a message with its own envelope line, as procmail
        # delivers it: an mbox of several messages to read_head, one message to CHECK.
        b"From a@example.org Mon Jan  1 00:00:00 2024\nSubject: fwd\n\n"
        b"From b@example.org Mon Jan  1 00:00:00 2024\nSubject: inner\n\nhi\n",
        b"%PDF-1.4 not a file here, the bytes a client sent\n",
    ],
    ids=["envelope-lines", "pdf-magic"],
)
def test_tell_learns_what_check_scores(model_file: Path, tmp_path: Path, body: bytes) -> None:
    # TELL once read the body as model.learn(bytes) does, with the file-format and mbox checks
    # CHECK skips, and answered "70 internal error" for mail CHECK scored.
    live = _start(model_file, tmp_path, allow_tell=True)
    try:
        reply = request(live.path, spamc_request("TELL", body, Message_class="spam", Set="local"))
        assert reply.startswith(b"SPAMD/1.1 0 EX_OK"), reply
    finally:
        live.server.stop()


def test_save_learned_where_no_file_can_go_stops_the_server_at_start(
    model_file: Path, tmp_path: Path
) -> None:
    # Found out at the first TELL, every lesson would be answered with an error.
    (tmp_path / "a-file").write_bytes(b"x")
    settings = ServerSettings(
        listen=(str(tmp_path / "spamd.sock"),),
        allow_tell=True,
        save_learned=str(tmp_path / "a-file" / "learned.spamclf"),
    )
    server = SpamdServer(model_file, settings)
    with pytest.raises(ModelError, match="cannot save a model at"):
        server.start()
    server.stop()


def test_tell_that_cannot_save_says_so(model_file: Path, tmp_path: Path) -> None:
    saved = tmp_path / "learned.spamclf"
    live = _start(model_file, tmp_path, allow_tell=True, save_learned=str(saved))
    try:
        card_path(saved).mkdir()  # the folder changed after the start: the save fails
        message = fixture_path("english_ham").read_bytes()
        reply = request(
            live.path, spamc_request("TELL", message, Message_class="spam", Set="local")
        )
        assert reply.startswith(b"SPAMD/1.0 73 ") and b"could not be saved" in reply
        ping = request(live.path, b"PING SPAMC/1.5\r\n\r\n")
        assert ping.startswith(b"SPAMD/1.5 0 PONG")
    finally:
        live.server.stop()


def test_a_lesson_whose_save_failed_is_saved_when_the_server_stops(
    model_file: Path, tmp_path: Path
) -> None:
    # The disk was full at the lesson and freed since: SIGTERM dropped the lesson unsaved.
    saved = tmp_path / "learned.spamclf"
    live = _start(model_file, tmp_path, allow_tell=True, save_learned=str(saved))
    card_path(saved).mkdir()  # the save fails
    message = fixture_path("english_ham").read_bytes()
    reply = request(live.path, spamc_request("TELL", message, Message_class="spam", Set="local"))
    assert reply.startswith(b"SPAMD/1.0 73 ")
    card_path(saved).rmdir()
    live.server.stop()
    from spamclf.persist import load_model

    assert load_model(saved).card["learned"] == {"spam": 1, "ham": 0}


def test_a_reload_drops_the_unsaved_lesson_and_the_save_at_stop(
    model_file: Path, tmp_path: Path
) -> None:
    # The reloaded --model has nothing unsaved: saved at the stop, it would overwrite the
    # lessons --save-learned kept before the failed save.
    saved = tmp_path / "learned.spamclf"
    live = _start(model_file, tmp_path, allow_tell=True, save_learned=str(saved))
    message = fixture_path("english_ham").read_bytes()
    tell = spamc_request("TELL", message, Message_class="spam", Set="local")
    assert request(live.path, tell) == tell_reply(did_set=True)
    card = card_path(saved).read_bytes()
    card_path(saved).unlink()
    card_path(saved).mkdir()  # the next save fails
    assert request(live.path, tell).startswith(b"SPAMD/1.0 73 ")
    card_path(saved).rmdir()
    card_path(saved).write_bytes(card)
    assert live.server.reload()
    live.server.stop()
    from spamclf.persist import load_model

    assert load_model(saved).card["learned"] == {"spam": 1, "ham": 0}


def test_reload_of_a_file_that_fails_to_load_keeps_serving(
    model_file: Path, tmp_path: Path
) -> None:
    served = tmp_path / "served.spamclf"
    shutil.copy(model_file, served)
    shutil.copy(card_path(model_file), card_path(served))
    live = _start(served, tmp_path)
    try:
        # A file that passes its checksum but whose header is a JSON list: loading it once
        # raised AttributeError, which the reload did not expect, and the server died.
        with np.load(served, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        arrays["header"] = np.frombuffer(b"[1, 2]", dtype=np.uint8)
        with served.open("wb") as f:
            np.savez(f, **arrays)
        card = json.loads(card_path(served).read_text(encoding="utf-8"))
        card["sha256"] = hashlib.sha256(served.read_bytes()).hexdigest()
        card_path(served).write_text(json.dumps(card), encoding="utf-8")
        assert live.server.reload() is False
        reply = request(live.path, spamc_request("CHECK", fixture_path("english_ham").read_bytes()))
        assert reply.startswith(b"SPAMD/1.1 0 EX_OK")
    finally:
        live.server.stop()


def test_a_lesson_taught_while_a_reload_reads_the_file_is_kept(
    model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # --model and --save-learned on one file, as docs/mta.md advises: a TELL learned while
    # SIGHUP read the file was saved, then lost from the model swapped in, and the next
    # lesson's save wrote the file without it.
    import spamclf.server

    served = tmp_path / "served.spamclf"
    shutil.copy(model_file, served)
    shutil.copy(card_path(model_file), card_path(served))
    live = _start(served, tmp_path, allow_tell=True, save_learned=str(served))
    read, go = threading.Event(), threading.Event()

    def slow_load(path: Path) -> Model:
        model = spamclf.server.load_model(path)
        read.set()
        go.wait(5)
        return model

    monkeypatch.setattr(spamclf.server, "_load", slow_load)
    tell = spamc_request(
        "TELL", fixture_path("english_ham").read_bytes(), Message_class="spam", Set="local"
    )
    replies: list[bytes] = []
    try:
        reloading = threading.Thread(target=live.server.reload)
        reloading.start()
        assert read.wait(5)  # the file is read; the swap is still to come
        teaching = threading.Thread(target=lambda: replies.append(request(live.path, tell)))
        teaching.start()
        teaching.join(0.3)  # the old server answered at once; now it waits for the reload
        go.set()
        reloading.join(5)
        teaching.join(5)
        assert replies == [tell_reply(did_set=True)]
        assert live.server.model.card.get("learned") == {"spam": 1, "ham": 0}
    finally:
        go.set()
        live.server.stop()


# --- the server as a process: signals -------------------------------------------------------


@pytest.fixture
def served_process(
    model_file: Path, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen, Path, Path]]:  # type: ignore[type-arg]
    path = tmp_path / "live.spamclf"
    shutil.copy(model_file, path)
    shutil.copy(str(model_file) + ".card.json", str(path) + ".card.json")
    sock = tmp_path / "spamd.sock"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "spamclf", "serve", "--model", str(path), "--listen", str(sock)],
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    assert b"serving" in line, line + process.stderr.read()
    yield process, path, sock
    if process.poll() is None:
        process.kill()
    process.wait()
    process.stderr.close()


def _start_request(sock: Path, message: bytes) -> socket.socket:
    """Send all of a CHECK request but its last byte: a request in flight."""
    conn = socket.socket(socket.AF_UNIX)
    conn.settimeout(10)
    conn.connect(str(sock))
    conn.sendall(spamc_request("CHECK", message)[:-1])
    return conn


def _finish_request(conn: socket.socket, message: bytes) -> bytes:
    conn.sendall(message[-1:])
    with conn:
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_sighup_reloads_the_model_without_dropping_a_request(
    served_process: tuple[subprocess.Popen, Path, Path],
    small_model: Model,  # type: ignore[type-arg]
) -> None:
    process, path, sock = served_process
    message = fixture_path("examples/spam").read_bytes()
    before = request(str(sock), spamc_request("CHECK", message))
    in_flight = _start_request(sock, message)
    # Same weights, cutoff 0.5 instead of 0.7: the score on spamd's scale changes.
    small_model.with_settings(spam_cutoff=0.5).save(path)
    process.send_signal(signal.SIGHUP)
    assert process.stderr is not None
    assert b"reloaded" in process.stderr.readline()
    assert _finish_request(in_flight, message) in {
        before,
        request(str(sock), spamc_request("CHECK", message)),
    }
    after = request(str(sock), spamc_request("CHECK", message))
    verdict = small_model.with_settings(spam_cutoff=0.5).classify(message)
    score = format_score(spamd_score(verdict.score, 0.5), verdict.is_spam)
    assert after != before and f"; {score} / 5.0".encode() in after
    assert process.poll() is None


def test_sigterm_finishes_requests_in_flight_then_exits(
    served_process: tuple[subprocess.Popen, Path, Path],
) -> None:
    process, _, sock = served_process
    message = fixture_path("examples/ham").read_bytes()
    expected = request(str(sock), spamc_request("CHECK", message))
    in_flight = _start_request(sock, message)
    time.sleep(0.5)  # let the server accept the connection (one in the backlog is not in flight)
    process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert process.poll() is None  # still finishing the request in flight
    assert _finish_request(in_flight, message) == expected
    assert process.wait(timeout=10) == 0
    assert not sock.exists()


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (["--listen", "127.0.0.1:notaport"], EXIT_INPUT, "expected HOST:PORT"),
        (["--listen", "127.0.0.1:99999"], EXIT_INPUT, "a port is 0 to 65535"),
        (["--listen", "/nonexistent-folder/spamd.sock"], EXIT_INPUT, "cannot listen"),
        (["--model", "/nonexistent.spamclf"], EXIT_MODEL, "nonexistent"),
    ],
)
def test_serve_reports_bad_settings(
    model_file: Path,
    arguments: list[str],
    code: int,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve", "--model", str(model_file), *arguments]) == code
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "arguments",
    [
        # No connection allowed spun the loop at 100% CPU, answering no one; an infinite or
        # NaN timeout killed the serving thread at the first client, the port still held.
        ["--max-connections", "0"],
        ["--timeout", "inf"],
        ["--timeout", "nan"],
        ["--timeout", "0"],
        ["--max-size", "-1"],
        ["--log-level", "bogus"],
    ],
)
def test_serve_refuses_impossible_options_as_a_bad_command_line(
    model_file: Path, arguments: list[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--model", str(model_file), *arguments])
    assert stopped.value.code == 2


@pytest.mark.parametrize("mode", ["-1", "7777"])
def test_serve_refuses_a_socket_mode_that_is_no_mode(
    mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # -1 was taken as 7777: a socket every local user could connect to (and, with
    # --allow-tell, teach). Parsed alone: the old parser accepted it and went on to serve.
    from spamclf.server import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with pytest.raises(SystemExit) as stopped:
        parser.parse_args(["--socket-mode", mode])
    assert stopped.value.code == 2
    assert "must be 000 to 777" in capsys.readouterr().err


@pytest.mark.parametrize(
    "settings",
    [
        {"max_connections": 0},
        {"timeout": math.inf},
        {"timeout": math.nan},
        {"max_size": -1},
        {"socket_mode": -1},
    ],
)
def test_server_settings_refuse_impossible_values(settings: dict[str, float]) -> None:
    with pytest.raises(SpamclfError):
        ServerSettings(**settings)  # type: ignore[arg-type]


def test_a_burst_of_sighups_is_one_reload_and_sigterm_still_stops_promptly(
    served_process: tuple[subprocess.Popen, Path, Path],  # type: ignore[type-arg]
) -> None:
    process, _, sock = served_process
    for _ in range(200):
        process.send_signal(signal.SIGHUP)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert process.stderr is not None
    assert process.stderr.read().count(b"reloaded") < 200
    assert not sock.exists()


def test_the_server_loads_what_scoring_needs_before_the_first_request(model_file: Path) -> None:
    # jieba's dictionary loads on first use; a server must not make its first client wait.
    from spamclf import tokenize

    tokenize._jieba_cut.cache_clear()
    SpamdServer(model_file, ServerSettings(listen=("127.0.0.1:0",)))
    assert tokenize._jieba_cut.cache_info().currsize == 1
