"""Tests of spamclf.mta and ``spamclf filter``: the headers added, and not one byte more."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import tracemalloc
from pathlib import Path

import pytest
from conftest import ALL_FIXTURES, fixture_path

from spamclf import __version__
from spamclf.cli import FILTER_EXIT, FILTER_EXIT_ERROR, FILTER_EXIT_TEMPFAIL, main
from spamclf.model import Model
from spamclf.mta import (
    REQUIRED_SCORE,
    add_headers,
    format_score,
    header_text,
    line_ending,
    spam_headers,
    spamd_score,
    symbols,
    without_added_headers,
)
from spamclf.origin import Origin
from spamclf.persist import load_model
from spamclf.verdict import Reason, Verdict

ADDED = ("X-Spam-Flag", "X-Spam-Score", "X-Spam-Level", "X-Spam-Status", "X-Spamclf-Reasons")
EVERY_MESSAGE = [*ALL_FIXTURES, "examples/spam", "examples/ham"]
HOSTILE = "subject:\r\nX-Spam-Flag: NO\x00\x1b[31m\u2028\u0085发票\U0001f600"


def as_lf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n")


def as_crlf(raw: bytes) -> bytes:
    return as_lf(raw).replace(b"\n", b"\r\n")


def run_filter(
    raw: bytes,
    model_path: Path | str,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
    *options: str,
) -> tuple[int, bytes]:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    code = main(["filter", "--model", str(model_path), *options])
    return code, capsysbinary.readouterr().out


def split_added(output: bytes, eol: bytes) -> tuple[list[bytes], bytes]:
    """The header lines spamclf added (first in the message) and what follows them."""
    lines = []
    rest = output
    for name in ADDED:
        assert rest.startswith(name.encode() + b": "), rest[:80]
        end = rest.index(eol) + len(eol)
        lines.append(rest[:end])
        rest = rest[end:]
    return lines, rest


def _verdict(label: str = "spam", score: float = 0.99, features: tuple[str, ...] = ()) -> Verdict:
    reasons = tuple(Reason(name, 1.5 - i / 10) for i, name in enumerate(features))
    origin = Origin(None, None, None, None, None, None, 0, ())
    return Verdict(label, score, reasons, origin)  # type: ignore[arg-type]


# --- the score scale -------------------------------------------------------------------------


@pytest.mark.parametrize("cutoff", [0.5, 0.9, 0.98, 1.0])
def test_spamd_score_is_monotone_and_puts_the_cutoff_at_required(cutoff: float) -> None:
    probabilities = [i / 1000 for i in range(1001)]
    scores = [spamd_score(p, cutoff) for p in probabilities]
    assert scores == sorted(scores)
    assert scores[0] == 0.0 and scores[-1] == 10.0
    for p, score in zip(probabilities, scores, strict=True):
        assert (score >= REQUIRED_SCORE) is (p >= cutoff)


def test_format_score_never_shows_required_for_mail_that_is_not_spam() -> None:
    for hundredths in range(0, 1001):
        score = hundredths / 100
        is_spam = score >= REQUIRED_SCORE
        assert (float(format_score(score, is_spam)) >= REQUIRED_SCORE) is is_spam


# --- header values ---------------------------------------------------------------------------


def test_header_text_is_printable_ascii_for_hostile_text() -> None:
    text = header_text(HOSTILE, limit=1000)
    assert re.fullmatch(r"[\x20-\x7e]*", text)
    assert "\\x0d\\x0aX-Spam-Flag" in text
    assert "\\u53d1\\u7968" in text


def test_header_text_cuts_long_text() -> None:
    assert len(header_text("a" * 5000, limit=80)) == 80


def test_spam_headers_values_cannot_break_lines() -> None:
    verdict = _verdict(features=(HOSTILE, "attachment:name:" + "\n" * 300, "x" * 5000) * 3)
    for name, value in spam_headers(verdict, 0.98, "0.1.0"):
        assert re.fullmatch(r"[\x20-\x7e]*", value), name
        assert len(name) + 2 + len(value) < 998


@pytest.mark.parametrize(
    ("label", "score", "flag", "status"),
    [
        ("spam", 0.99, "YES", "Yes, score=7.5 required=5.0 label=spam"),
        ("unsure", 0.49, "NO", "No, score=2.5 required=5.0 label=unsure"),
        ("ham", 0.0, "NO", "No, score=0.0 required=5.0 label=ham"),
    ],
)
def test_spam_headers_follow_spamassassin_convention(
    label: str, score: float, flag: str, status: str
) -> None:
    fields = dict(spam_headers(_verdict(label, score, ("body:free",)), 0.98, "0.1.0"))
    assert list(fields) == list(ADDED)
    assert fields["X-Spam-Flag"] == flag
    assert fields["X-Spam-Status"].startswith(status)
    assert fields["X-Spam-Score"] == status.split("score=")[1].split()[0]
    assert fields["X-Spam-Level"] == "*" * int(float(fields["X-Spam-Score"]))
    assert fields["X-Spamclf-Reasons"] == "body:free (+1.50)"


def test_unfamiliar_mail_is_never_flagged_and_says_why() -> None:
    # A high probability in a writing system the model declines to label (spamclf/scripts.py).
    unfamiliar = dataclasses.replace(_verdict("unsure", 0.999), script="han", unfamiliar=True)
    fields = dict(spam_headers(unfamiliar, 0.98, "0.1.0"))
    assert fields["X-Spam-Flag"] == "NO"
    assert fields["X-Spam-Score"] == "4.9" and fields["X-Spam-Level"] == "****"
    assert fields["X-Spam-Status"].endswith(" unfamiliar_script=han")
    assert symbols(unfamiliar)[:2] == ["SPAMCLF_UNSURE", "SPAMCLF_UNFAMILIAR_SCRIPT_HAN"]


def test_symbols_are_comma_free() -> None:
    names = symbols(_verdict(features=("subject:a, b", HOSTILE)))
    assert names[0] == "SPAMCLF_SPAM"
    assert all(re.fullmatch(r"[\x21-\x7e]+", n) and "," not in n for n in names)


# --- inserting headers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "eol"),
    [(b"A: b\r\n\r\nbody\n", b"\r\n"), (b"A: b\n\r\n", b"\n"), (b"", b"\n"), (b"junk", b"\n")],
)
def test_line_ending_is_the_first_lines(raw: bytes, eol: bytes) -> None:
    assert line_ending(raw) == eol


def test_add_headers_keeps_an_mbox_from_line_first() -> None:
    raw = b"From someone@example.com Mon Apr  3 16:05:12 2006\nSubject: hi\n\nbody\n"
    out = add_headers(raw, [("X-Spam-Flag", "NO")])
    assert out == raw.replace(b"2006\n", b"2006\nX-Spam-Flag: NO\n", 1)


def test_add_headers_after_an_lf_envelope_line_use_the_message_line_ending() -> None:
    # procmail's LF envelope line before a CRLF message gave the added headers LF ends.
    raw = b"From a@example.org Mon Jan  1 00:00:00 2024\nSubject: hi\r\n\r\nbody\r\n"
    added = add_headers(raw, [("X-Spam-Flag", "NO")])
    assert added == raw.replace(b"\nSubject", b"\nX-Spam-Flag: NO\r\nSubject")


def test_add_headers_keeps_existing_spam_headers_after_ours() -> None:
    raw = b"X-Spam-Flag: NO\r\nX-Spam-Status: No, score=-5.0\r\nSubject: x\r\n\r\nbuy\r\n"
    out = add_headers(raw, [("X-Spam-Flag", "YES")])
    assert out == b"X-Spam-Flag: YES\r\n" + raw


def test_without_added_headers_takes_off_only_spamclfs_own_opening_block() -> None:
    raw = b"From a@b Mon Jan  1 00:00:00 2024\nSubject: x\r\n\r\nbuy\r\n"
    fields = spam_headers(_verdict(features=("subject:x",)), 0.99, __version__)
    once = add_headers(raw, fields)
    assert without_added_headers(once) == raw
    assert without_added_headers(add_headers(once, fields)) == raw  # stacked by an old version
    # Anything else stays: a sender's forged block, ours not first, another filter's status.
    forged = b"X-Spam-Flag: NO\r\nX-Spam-Status: No, score=-5.0\r\nSubject: x\r\n\r\nbuy\r\n"
    assert without_added_headers(forged) == forged
    later = b"Subject: x\r\n" + add_headers(b"\r\nbuy\r\n", fields)
    assert without_added_headers(later) == later
    other = once.replace(f"version=spamclf-{__version__}".encode(), b"version=3.4.6")
    assert without_added_headers(other) == other


# --- spamclf filter --------------------------------------------------------------------------


@pytest.mark.parametrize("form", [as_lf, as_crlf], ids=["LF", "CRLF"])
@pytest.mark.parametrize("name", EVERY_MESSAGE)
def test_filter_changes_no_byte_of_the_message(
    name: str,
    form,  # type: ignore[no-untyped-def]
    small_model: Model,
    tmp_model_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    raw = form(fixture_path(name).read_bytes())
    code, out = run_filter(raw, tmp_model_path, monkeypatch, capsysbinary)
    eol = b"\r\n" if form is as_crlf and b"\n" in raw else b"\n"
    added, rest = split_added(out, eol)
    assert rest == raw
    for line in added:
        assert re.fullmatch(rb"[\x20-\x7e]*", line[: -len(eol)])
    verdict = small_model.classify(raw)
    assert code == FILTER_EXIT[verdict.label]
    assert added[0] == b"X-Spam-Flag: " + (b"YES" if verdict.is_spam else b"NO") + eol


@pytest.mark.parametrize("form", [as_lf, as_crlf], ids=["LF", "CRLF"])
def test_filter_run_twice_replaces_its_block_and_keeps_its_verdict(
    form,  # type: ignore[no-untyped-def]
    small_model: Model,
    tmp_model_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    # Filtered again (a forward between two servers that both run spamclf), a message was
    # scored with the first block's bytes counted towards its size, and stacked two blocks.
    raw = form(fixture_path("examples/spam").read_bytes())
    once = run_filter(raw, tmp_model_path, monkeypatch, capsysbinary)[1]
    code, twice = run_filter(once, tmp_model_path, monkeypatch, capsysbinary)
    assert twice == once
    assert code == FILTER_EXIT[small_model.classify(raw).label]


def test_filter_exit_codes_are_bogofilters(
    small_model: Model,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    assert FILTER_EXIT == {"spam": 0, "ham": 1, "unsure": 2} and FILTER_EXIT_ERROR == 3
    # The small test model labels no fixture spam at the shipped cutoff; a lower one gives all 3.
    model = small_model.with_settings(spam_cutoff=0.7)
    model.save(tmp_path / "low.spamclf")
    seen = set()
    for name in EVERY_MESSAGE:
        raw = fixture_path(name).read_bytes()
        code, out = run_filter(raw, tmp_path / "low.spamclf", monkeypatch, capsysbinary)
        assert code == FILTER_EXIT[model.classify(raw).label]
        assert out.startswith(b"X-Spam-Flag: YES" if code == 0 else b"X-Spam-Flag: NO")
        if code not in seen:
            options = ("--exit-zero",)
            assert (
                run_filter(raw, tmp_path / "low.spamclf", monkeypatch, capsysbinary, *options)[0]
                == 0
            )
        seen.add(code)
    assert seen == {0, 1, 2}


def test_filter_passes_the_message_through_when_the_model_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    raw = fixture_path("examples/spam").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    code = main(["filter", "--model", str(tmp_path / "missing.spamclf"), "--exit-zero"])
    captured = capsysbinary.readouterr()
    assert code == FILTER_EXIT_ERROR
    assert captured.out == raw
    assert b"not filtered" in captured.err


def test_filter_headers_stay_single_lines_for_hostile_messages(
    tmp_model_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    raw = (
        b"Subject: =?utf-8?B?ZnJlZQ0KWC1TcGFtLUZsYWc6IE5P?= \x1b\x00\xff\r\n"
        b"X-Spam-Flag: NO\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b'Content-Disposition: attachment; filename="a\r\n\tX-Evil: 1\x07.exe"\r\n\r\n'
        b"free free free\r\n--b--\r\n"
    )
    code, out = run_filter(raw, tmp_model_path, monkeypatch, capsysbinary)
    added, rest = split_added(out, b"\r\n")
    assert rest == raw
    assert all(re.fullmatch(rb"[\x20-\x7e]*\r\n", line) for line in added)
    assert code in FILTER_EXIT.values()


def test_filter_passes_an_oversized_message_through_with_a_verdict(
    tmp_model_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    raw = fixture_path("examples/spam").read_bytes() + b"cheap meds " * 300_000  # 3.3 MB
    code, out = run_filter(raw, tmp_model_path, monkeypatch, capsysbinary)
    _, rest = split_added(out, b"\n")
    assert rest == raw
    assert code in FILTER_EXIT.values()


class _Sink(io.RawIOBase):
    """Standard output that keeps only the start of what is written and a digest of it all."""

    def __init__(self) -> None:
        self.start = b""
        self.digest = hashlib.sha256()
        self.code = self.peak = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[no-untyped-def,override]
        data = bytes(data)
        if len(self.start) < 65536:
            self.start += data[: 65536 - len(self.start)]
        self.digest.update(data)
        return len(data)


def _filter_peak(raw: bytes, model_path: Path, monkeypatch: pytest.MonkeyPatch) -> _Sink:
    """Run ``spamclf filter`` on ``raw``; what it wrote, and the peak of memory it allocated."""
    sink = _Sink()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    monkeypatch.setattr("sys.stdout", io.TextIOWrapper(io.BufferedWriter(sink)))
    tracemalloc.start()
    try:
        sink.code = main(["filter", "--model", str(model_path)])
        sink.peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return sink


def test_filter_holds_a_head_not_the_message(
    tmp_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20 MB through the filter, the part past the head spooled to a file (at 1 KB here, 8 MB
    in use): out comes every byte, the headers first, with the verdict of the whole message;
    the memory allocated meanwhile grows by half the message at most, most of it the parse of
    the 1 MB head (the old filter held the message twice: 40 MB more). Loading the model costs
    the same for a small message."""
    small = fixture_path("examples/spam").read_bytes()
    raw = small + b"cheap meds " * 2_000_000
    model = load_model(tmp_model_path)
    expected = model.classify(raw)
    fields = spam_headers(expected, model.settings.spam_cutoff, __version__)
    block = add_headers(raw[:100], fields)[:-100]  # the header lines, in raw's line ending
    monkeypatch.setattr("spamclf.cli.FILTER_SPOOL_BYTES", 1024)
    baseline = _filter_peak(small, tmp_model_path, monkeypatch).peak
    sink = _filter_peak(raw, tmp_model_path, monkeypatch)
    assert sink.code == FILTER_EXIT[expected.label]
    assert sink.start.startswith(block)
    assert sink.digest.hexdigest() == hashlib.sha256(block + raw).hexdigest()
    assert sink.peak - baseline < 10_000_000, (baseline, sink.peak)


class _Failing(io.RawIOBase):
    """A pipe that breaks: reading gives ``good`` bytes, then an I/O error; writing fails."""

    def __init__(self, good: bytes = b"") -> None:
        self.good = good

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def,override]
        if not self.good:
            raise OSError(5, "Input/output error")
        n = min(len(buffer), len(self.good))
        buffer[:n], self.good = self.good[:n], self.good[n:]
        return n

    def write(self, data) -> int:  # type: ignore[no-untyped-def,override]
        raise OSError(28, "No space left on device")


def _no_room(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("failure", ["reading", "spooling", "writing"])
def test_filter_that_cannot_pass_the_whole_message_on_asks_to_try_again(
    tmp_model_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
    failure: str,
) -> None:
    """Exit 75, which delivery agents take as "try again later", and nothing on stdout when the
    message could not be read: it must not be delivered cut short."""
    raw = fixture_path("examples/spam").read_bytes() + b"cheap meds " * 120_000  # 1.3 MB
    stdin = _Failing(raw[:5000]) if failure == "reading" else io.BytesIO(raw)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BufferedReader(stdin)))
    if failure == "spooling":
        monkeypatch.setattr("spamclf.cli.FILTER_SPOOL_BYTES", 1024)
        monkeypatch.setattr("tempfile.TemporaryFile", _no_room)
    if failure == "writing":
        monkeypatch.setattr("sys.stdout", io.TextIOWrapper(io.BufferedWriter(_Failing())))
    code = main(["filter", "--model", str(tmp_model_path)])
    captured = capsysbinary.readouterr()
    assert code == FILTER_EXIT_TEMPFAIL == 75
    assert captured.out == b""
    verb = "write" if failure == "writing" else "read"
    assert f"spamclf: cannot {verb} the message".encode() in captured.err


class _FullDisk(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")


def test_filter_whose_stderr_cannot_be_written_still_passes_the_message_on(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    # stderr on a full disk: the error line failed, and the filter exited 1 ("ham") with
    # nothing written, where the message goes out unchanged and 3 says it was not filtered.
    raw = b"Subject: hi\n\nhello\n"
    monkeypatch.setattr("sys.stderr", _FullDisk())
    code, out = run_filter(raw, "/nonexistent.spamclf", monkeypatch, capsysbinary)
    assert (code, out) == (FILTER_EXIT_ERROR, raw)


@pytest.mark.parametrize("arguments", [["-e", "--modle", "x"], ["--model"]])
def test_filter_with_a_bad_command_line_asks_to_try_again(arguments: list[str]) -> None:
    # argparse's 2 is "unsure" to the filter's caller, which would deliver the empty output.
    assert main(["filter", *arguments]) == FILTER_EXIT_TEMPFAIL


@pytest.mark.parametrize("closed", ["sys.stdin", "sys.stdout"])
def test_filter_started_without_stdin_or_stdout_asks_to_try_again(
    tmp_model_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
    closed: str,
) -> None:
    """`spamclf filter <&-`: Python sets sys.stdin to None; an error message and 75, not a
    traceback."""
    raw = fixture_path("examples/spam").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    monkeypatch.setattr(closed, None)
    assert main(["filter", "--model", str(tmp_model_path)]) == FILTER_EXIT_TEMPFAIL
    which = "input" if closed == "sys.stdin" else "output"
    assert f"no standard {which}".encode() in capsysbinary.readouterr().err
