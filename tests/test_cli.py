"""Tests of spamclf.cli: the classify, train and evaluate commands and their exit codes."""

from __future__ import annotations

import base64
import bz2
import copy
import gzip
import io
import json
import lzma
import mailbox
import os
import re
import sys
import threading
import types
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import fixture_path, rewrite_model_header

import spamclf.cli
import spamclf.inputs
from spamclf.cli import (
    EXIT_BROKEN_PIPE,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_MODEL,
    EXIT_OK,
    FILTER_EXIT_TEMPFAIL,
    _read_corpora,
    _read_stdin,
    main,
    safe_text,
)
from spamclf.errors import CorpusError, InputError, SeveralMessagesError
from spamclf.inputs import read_head
from spamclf.model import Model
from spamclf.parse import Limits
from spamclf.persist import card_path, load_model

MAX_BYTES = Limits().max_message_bytes


def _lines(text: str) -> list[str]:
    return text.splitlines()


def test_classify_prints_one_line_per_file(
    small_model: Model, tmp_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(fixture_path("gb2312_spam")), str(fixture_path("examples/ham"))]
    assert main(["classify", "--model", str(tmp_model_path), *paths]) == EXIT_OK
    lines = _lines(capsys.readouterr().out)
    assert len(lines) == 2
    for line, path in zip(lines, paths, strict=True):
        verdict = small_model.classify(path)
        assert line.startswith(path)
        assert verdict.label in line
        assert f"{verdict.score:.4f}" in line
        top = verdict.reasons[0]
        assert f"{top.feature} {top.contribution:+.2f}" in line


def test_version_names_the_feature_schema(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == EXIT_OK
    assert re.fullmatch(
        r"spamclf \S+ \(feature schema spamclf-features-\d+\)\n", capsys.readouterr().out
    )


def test_classify_takes_a_folder_for_the_message_files_under_it(
    tmp_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    box = tmp_path / "Maildir"
    for name in ("cur/2", "new/1", "cur/.hidden", "tmp/partial", "dovecot-uidlist"):
        (box / name).parent.mkdir(parents=True, exist_ok=True)
        (box / name).write_bytes(fixture_path("examples/ham").read_bytes())
    alone = str(fixture_path("examples/spam"))
    assert main(["classify", "--model", str(tmp_model_path), str(box), alone]) == EXIT_OK
    files = [line.split("\t")[0] for line in _lines(capsys.readouterr().out)]
    assert files == [str(box / "cur" / "2"), str(box / "new" / "1"), alone]


def test_classify_a_folder_leaves_a_named_pipe_in_it_out_and_says_so(
    tmp_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "1").write_bytes(fixture_path("examples/ham").read_bytes())
    os.mkfifo(folder / "pipe")  # with no writer: opened, it would wait forever
    assert main(["classify", "--model", str(tmp_model_path), str(folder)]) == EXIT_OK
    captured = capsys.readouterr()
    assert [line.split("\t")[0] for line in _lines(captured.out)] == [str(folder / "1")]
    assert f"warning: left out {folder / 'pipe'}: a named pipe" in captured.err


def _mbox_of(*names: str) -> bytes:
    """An mbox file of the fixture messages ``names``, as mail clients write one."""
    return b"".join(
        b"From sender@example.com Mon Jan  1 00:00:%02d 2024\n" % i
        + fixture_path(name).read_bytes().rstrip(b"\n")
        + b"\n\n"
        for i, name in enumerate(names)
    )


def test_classify_gives_each_message_of_an_mbox_file_its_line(
    small_model: Model, tmp_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Thunderbird keeps each folder as one mbox file; scored whole, a mailbox got one verdict.
    names = ("gb2312_spam", "english_ham", "big5_ham")
    box = tmp_path / "Junk"
    box.write_bytes(_mbox_of(*names))
    packed = tmp_path / "Junk.gz"
    packed.write_bytes(gzip.compress(box.read_bytes()))
    alone = str(fixture_path("english_ham"))
    model = ["--model", str(tmp_model_path)]
    assert main(["classify", *model, "--json", str(box), alone, str(packed)]) == EXIT_OK
    records = [json.loads(line) for line in _lines(capsys.readouterr().out)]
    expected = [f"{box}#{i}" for i in range(3)] + [alone] + [f"{packed}#{i}" for i in range(3)]
    assert [r["file"] for r in records] == expected
    scores = [small_model.classify(fixture_path(name)).score for name in names]
    assert [r["score"] for r in records[:3]] == pytest.approx(scores, abs=1e-6)
    assert [r["score"] for r in records[4:]] == [r["score"] for r in records[:3]]
    with pytest.raises(SeveralMessagesError, match="mbox_messages"):
        small_model.classify(box)


def test_an_mbox_of_one_message_is_that_message_and_on_stdin_several_are_refused(
    tmp_model_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one = tmp_path / "saved.mbox"
    one.write_bytes(_mbox_of("english_ham"))
    assert main(["classify", "--model", str(tmp_model_path), str(one)]) == EXIT_OK
    assert [line.split("\t")[0] for line in _lines(capsys.readouterr().out)] == [str(one)]
    stdin = io.BufferedReader(io.BytesIO(_mbox_of("english_ham", "big5_ham")))
    monkeypatch.setattr("sys.stdin", types.SimpleNamespace(buffer=stdin))
    assert main(["classify", "--model", str(tmp_model_path), "-"]) == EXIT_INPUT
    assert "name the file instead" in capsys.readouterr().err


def test_an_mbox_through_a_pipe_is_refused_saying_so(
    tmp_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Opened again to read its messages, the pipe was "an mbox that does not exist".
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    data = _mbox_of("english_ham", "big5_ham")
    threading.Thread(target=lambda: pipe.write_bytes(data), daemon=True).start()
    assert main(["classify", "--model", str(tmp_model_path), str(pipe)]) == EXIT_INPUT
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{pipe} is a pipe that holds an mbox file of several messages" in err


def test_an_empty_file_is_no_message_and_gets_no_line(
    tmp_model_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An emptied Trash mbox, as Thunderbird leaves it, got the verdict of an empty message.
    trash = tmp_path / "Trash"
    trash.write_bytes(b"")
    packed = tmp_path / "empty.eml.gz"
    packed.write_bytes(gzip.compress(b""))
    box = tmp_path / "Junk"  # its second message is empty
    box.write_bytes(_mbox_of("english_ham") + b"From a@example.com Mon Jan  1 00:00:09 2024\n\n")
    alone = str(fixture_path("english_ham"))
    monkeypatch.setattr("sys.stdin", types.SimpleNamespace(buffer=io.BytesIO(b"")))
    args = ["classify", "--json", "--model", str(tmp_model_path), str(trash), alone]
    assert main([*args, str(packed), str(box), "-"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert [json.loads(line)["file"] for line in _lines(out)] == [alone, f"{box}#0"]
    assert f"{box}#1 is empty" in err
    assert f"{trash} is empty" in err
    assert f"{packed} is empty" in err
    assert "standard input is empty" in err


def test_classify_output_is_tab_separated(
    small_model: Model, tmp_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(fixture_path("gb2312_spam"))
    main(["classify", "--model", str(tmp_model_path), path])
    fields = capsys.readouterr().out.rstrip("\n").split("\t")
    verdict = small_model.classify(path)
    assert fields[:3] == [path, verdict.label, f"{verdict.score:.4f}"]
    assert len(fields) == 4


@pytest.mark.parametrize("n_reasons", [0, 1, 3])
def test_classify_reasons_option_limits_reasons(
    small_model: Model, tmp_model_path: Path, capsys: pytest.CaptureFixture[str], n_reasons: int
) -> None:
    path = str(fixture_path("gb2312_spam"))
    main(["classify", "--model", str(tmp_model_path), "--reasons", str(n_reasons), path])
    out = capsys.readouterr().out
    reasons = small_model.classify(path).reasons
    for i, reason in enumerate(reasons):
        assert (f"{reason.feature} {reason.contribution:+.2f}" in out) is (i < n_reasons)


def test_classify_json_lines_parse(
    small_model: Model, tmp_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(fixture_path("received_cn_kr")), str(fixture_path("gb2312_ham"))]
    code = main(["classify", "--json", "--reasons", "2", "--model", str(tmp_model_path), *paths])
    assert code == EXIT_OK
    records = [json.loads(line) for line in _lines(capsys.readouterr().out)]
    assert [r["file"] for r in records] == paths
    for record, path in zip(records, paths, strict=True):
        expected = small_model.classify(path)
        assert record["label"] == expected.label
        assert record["score"] == pytest.approx(expected.score, abs=1e-6)
        assert len(record["reasons"]) == 2
        assert record["reasons"][0]["feature"] == expected.reasons[0].feature
    assert records[0]["origin"]["relay_country"] == "KR"
    assert records[0]["origin"]["sender_country"] == "CN"


def test_classify_json_keeps_non_ascii_readable(
    tmp_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(
        [
            "classify",
            "--json",
            "--reasons",
            "100",
            "--model",
            str(tmp_model_path),
            str(fixture_path("gb2312_spam")),
        ]
    )
    out = capsys.readouterr().out
    assert "\\u" not in out
    assert json.loads(out)["label"] in {"spam", "ham", "unsure"}


def test_classify_dash_reads_stdin(
    small_model: Model,
    tmp_model_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = fixture_path("gb2312_spam").read_bytes()
    monkeypatch.setattr("sys.stdin", types.SimpleNamespace(buffer=io.BytesIO(data)))
    assert main(["classify", "--json", "--model", str(tmp_model_path), "-"]) == EXIT_OK
    record = json.loads(capsys.readouterr().out)
    assert record["file"] == "-"
    assert record["score"] == pytest.approx(small_model.classify(data).score, abs=1e-6)


def test_classify_jobs_prints_what_one_process_prints(
    tmp_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(fixture_path(name)) for name in ("gb2312_spam", "english_ham", "big5_ham")]
    files = [*files, str(tmp_path / "missing.eml"), *files]  # the others still get their lines
    outputs = []
    for jobs in ("1", "2"):
        args = ["classify", "--json", "--model", str(tmp_model_path), "--jobs", jobs, *files]
        assert main(args) == EXIT_INPUT
        out, err = capsys.readouterr()
        assert "missing.eml" in err
        outputs.append(out)
    assert outputs[0] == outputs[1]
    assert [json.loads(line)["file"] for line in outputs[1].splitlines()] == files[:3] + files[4:]


def test_stdin_keeps_only_what_a_model_reads_and_counts_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = fixture_path("english_ham").read_bytes() + b"x" * 3_000_000
    stdin = io.BytesIO(data)
    monkeypatch.setattr("sys.stdin", types.SimpleNamespace(buffer=stdin))
    assert _read_stdin(1_000) == (data[:1_000], len(data))
    assert stdin.read() == b""  # read to the end: the writer never meets a closed pipe


def test_stdin_mbox_whose_first_message_is_longer_than_the_head_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Its second message lay past the head, and the mailbox got one verdict (a path did not).
    first = b"From a@example.com Mon Jan  1 00:00:00 2024\nSubject: big\n\n" + b"x" * 5_000
    data = first + b"\n\n" + _mbox_of("english_ham")
    stdin = io.BufferedReader(io.BytesIO(data))
    monkeypatch.setattr("sys.stdin", types.SimpleNamespace(buffer=stdin))
    with pytest.raises(InputError, match="several messages"):
        _read_stdin(1_000)
    assert stdin.read() == b""
    stdin = io.BufferedReader(io.BytesIO(first))
    monkeypatch.setattr("sys.stdin", types.SimpleNamespace(buffer=stdin))
    assert _read_stdin(1_000) == (first[:1_000], len(first))


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress])
def test_stdin_compressed_mbox_whose_second_message_is_past_the_head_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, compress: Callable[[bytes], bytes]
) -> None:
    # Only its head was searched: one verdict for a mailbox that, named as a file, was refused.
    first = b"From a@example.com Mon Jan  1 00:00:00 2024\nSubject: big\n\n" + b"x" * 5_000
    data = compress(first + b"\n\n" + _mbox_of("english_ham"))
    path = tmp_path / "Junk.gz"
    path.write_bytes(data)
    with pytest.raises(SeveralMessagesError):
        read_head(path, 1_000)
    stdin = io.BufferedReader(io.BytesIO(data))
    monkeypatch.setattr("sys.stdin", types.SimpleNamespace(buffer=stdin))
    with pytest.raises(InputError, match="standard input holds an mbox file of several"):
        _read_stdin(1_000)
    assert stdin.read() == b""
    stdin = io.BufferedReader(io.BytesIO(compress(first)))
    monkeypatch.setattr("sys.stdin", types.SimpleNamespace(buffer=stdin))
    assert _read_stdin(1_000) == (first[:1_000], len(first))


def test_stdin_reads_a_compressed_message_through_and_drains_the_pipe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = fixture_path("english_ham").read_bytes()
    stdin = io.BufferedReader(io.BytesIO(gzip.compress(data)))  # peeks, as sys.stdin.buffer
    monkeypatch.setattr("sys.stdin", types.SimpleNamespace(buffer=stdin))
    assert _read_stdin(1_000) == (data[:1_000], len(data))
    assert stdin.read() == b""
    outlook = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(5_000)
    for unread, why in ((outlook, "Outlook"), (gzip.compress(data) + b"junk", "decompress")):
        stdin = io.BufferedReader(io.BytesIO(unread))
        monkeypatch.setattr("sys.stdin", types.SimpleNamespace(buffer=stdin))
        with pytest.raises(InputError, match=why):
            _read_stdin(1_000)
        assert stdin.read() == b""


def test_classify_unreadable_file_exits_3_and_prints_the_others(
    tmp_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = [str(fixture_path("gb2312_spam")), str(fixture_path("english_ham"))]
    missing = str(tmp_path / "missing.eml")
    null = "nul\x00in-the-name.eml"  # no such file can exist
    code = main(["classify", "--model", str(tmp_model_path), good[0], missing, null, good[1]])
    assert code == EXIT_INPUT
    captured = capsys.readouterr()
    lines = _lines(captured.out)
    assert len(lines) == 2
    assert lines[0].startswith(good[0])
    assert lines[1].startswith(good[1])
    assert "missing.eml" in captured.err
    assert captured.err.count("spamclf: cannot read message file") == 2


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("evil\nX-Spam: no.eml", "evil\\x0aX-Spam: no.eml"),
        ("bell\x07.eml", "bell\\x07.eml"),
        ("esc\x1b[31mred.eml", "esc\\x1b[31mred.eml"),
        ("cr\rover.eml", "cr\\x0dover.eml"),
    ],
)
def test_classify_escapes_control_characters_in_file_names(
    tmp_model_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    escaped: str,
) -> None:
    path = tmp_path / name
    path.write_bytes(fixture_path("examples/ham").read_bytes())
    assert main(["classify", "--model", str(tmp_model_path), str(path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "\r" not in out
    assert "\x1b" not in out
    assert "\x07" not in out
    assert out.startswith(str(tmp_path) + "/" + escaped)


def test_classify_escapes_control_characters_in_error_messages(
    tmp_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "gone\nspamclf: all good")
    assert main(["classify", "--model", str(tmp_model_path), missing]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1  # the name cannot forge a second line
    assert not any(line.startswith("spamclf: all good") for line in err.splitlines())


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("plain", "plain"),
        ("a\nb", "a\\x0ab"),
        ("a\x00b", "a\\x00b"),
        ("a\x7fb\x85c", "a\\x7fb\\x85c"),
        ("line\u2028sep", "line\\x2028sep"),
        ("日本語 ✓", "日本語 ✓"),
    ],
)
def test_safe_text_escapes_control_characters(text: str, safe: str) -> None:
    assert safe_text(text) == safe


def test_classify_with_tampered_model_exits_4(
    tmp_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bytearray(tmp_model_path.read_bytes())
    data[-10] ^= 0xFF
    tmp_model_path.write_bytes(bytes(data))
    code = main(["classify", "--model", str(tmp_model_path), str(fixture_path("examples/ham"))])
    assert code == EXIT_MODEL
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "sha256" in captured.err


def test_classify_with_malformed_settings_exits_4(tmp_model_path: Path) -> None:
    rewrite_model_header(tmp_model_path, settings={"n_features": 2**20, "new_option": True})
    code = main(["classify", "--model", str(tmp_model_path), str(fixture_path("examples/ham"))])
    assert code == 4


def test_classify_with_missing_model_exits_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["classify", "--model", str(tmp_path / "none"), str(fixture_path("examples/ham"))])
    assert code == EXIT_MODEL
    assert "no model file" in capsys.readouterr().err


def test_bad_command_line_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["classify"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-command"])
    assert exit_info.value.code == 2


@pytest.mark.parametrize("command", ["filtr", "fliter", "Filter"])
def test_a_misspelt_filter_command_asks_to_try_again(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # argparse's 2 is "unsure" to a caller that branches on filter's exit codes, which then
    # delivered the empty output: 75, as for filter's own bad command line, keeps the mail.
    assert main([command, "--exit-zero"]) == FILTER_EXIT_TEMPFAIL
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["clasify", "m.eml"])  # another command's typo stays a bad command line
    assert exit_info.value.code == 2


@pytest.mark.parametrize(
    "arguments",
    [
        ["classify", "--reasons", "-1"],
        ["train", "--C", "0", "-o", "m.spamclf"],
        ["train", "--C", "nan", "-o", "m.spamclf"],
        ["train", "--min-script-examples", "-5", "-o", "m.spamclf"],
    ],
)
def test_impossible_numbers_are_a_bad_command_line(
    arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*arguments, str(fixture_path("examples/ham"))])
    assert exit_info.value.code == 2
    assert arguments[1] in capsys.readouterr().err


@pytest.mark.parametrize("jobs", ["0", "99999999999", "two"])
def test_impossible_jobs_are_a_bad_command_line(
    jobs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # 99999999999 processes once reached the process pool, which died with OverflowError.
    with pytest.raises(SystemExit) as exit_info:
        main(["classify", "--jobs", jobs, str(fixture_path("examples/ham"))])
    assert exit_info.value.code == 2
    assert "--jobs" in capsys.readouterr().err


@pytest.fixture
def folder_corpus(tmp_path: Path, corpus: tuple[list[bytes], list[str]]) -> Path:
    """The synthetic corpus as spam/ and ham/ folders of one file per message."""
    root = tmp_path / "corpus"
    messages, labels = corpus
    for i, (message, label) in enumerate(zip(messages, labels, strict=True)):
        path = root / label / f"{i:03d}.eml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(message)
    return root


def test_evaluate_reads_each_message_file_once(
    folder_corpus: Path, tmp_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its head was read to see that it could be, then again to score it (0.2 s more on 6,000
    # trec06p files); the first read is the one scored.
    reads: list[object] = []

    def counted(read):  # type: ignore[no-untyped-def]
        return lambda message, max_bytes: reads.append(message) or read(message, max_bytes)

    monkeypatch.setattr("spamclf.cli.read_head", counted(spamclf.cli.read_head))
    monkeypatch.setattr("spamclf.inputs.read_head", counted(spamclf.inputs.read_head))
    command = ["evaluate", str(folder_corpus), "--model", str(tmp_model_path)]
    assert main(command) == EXIT_OK
    assert len(reads) == len(set(reads)) == 80


def test_train_on_a_folder_holding_an_mbox_file_names_it_and_how_to_give_it(
    folder_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A mail client's mbox folder among message files: before, one "message" of many.
    junk = folder_corpus / "spam" / "Junk"
    junk.write_bytes(_mbox_of("gb2312_spam", "english_ham"))
    output = tmp_path / "m.spamclf"
    assert main(["train", str(folder_corpus), "-o", str(output)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert f"message file {str(junk)!r} is an mbox file" in err and "spam:FILE" in err
    # Left out, said before the training starts, and the rest trained on: it stopped the run.
    assert err.index("is an mbox file") < err.index("training on 80 messages")
    assert "left out 1 unreadable message(s)" in err
    assert load_model(output).card["training"]["messages"] == 80


def test_train_interrupted_while_saving_exits_130_and_leaves_no_model_file(
    folder_corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    out.mkdir()

    def interrupted(_: Path) -> str:  # Ctrl-C once the model's temporary file is written
        raise KeyboardInterrupt

    monkeypatch.setattr("spamclf.persist._sha256", interrupted)
    assert main(["train", str(folder_corpus), "-o", str(out / "m.spamclf")]) == EXIT_INTERRUPTED
    assert list(out.iterdir()) == []
    assert capsys.readouterr().err.endswith("\nspamclf: interrupted\n")  # said in one line


def _train_or_evaluate_options(command: str, output: Path, model: Path) -> list[str]:
    """What ``train`` (where to write) or ``evaluate`` (which model) needs besides the corpus."""
    return ["-o", str(output)] if command == "train" else ["--model", str(model)]


def _assert_took(command: str, out: str, output: Path, *, spam: int, ham: int) -> None:
    """That ``evaluate`` printed, or ``train`` wrote in its model's card, that many messages."""
    if command == "evaluate":
        assert f"messages          {spam + ham} ({spam} spam, {ham} ham)" in out
    else:
        assert load_model(output).card["training"]["messages"] == spam + ham


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_file_that_is_no_message_is_left_out_and_the_run_goes_on(
    folder_corpus: Path,
    tmp_path: Path,
    tmp_model_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    # One stray PDF among the messages: every message before it was read and scored, then
    # the run stopped with no metrics and no model.
    (folder_corpus / "spam" / "zz.pdf").write_bytes(b"%PDF-1.4\n%binary\n")
    options = _train_or_evaluate_options(command, tmp_path / "m.spamclf", tmp_model_path)
    assert main([command, str(folder_corpus), *options]) == EXIT_INPUT
    captured = capsys.readouterr()
    assert "zz.pdf" in captured.err and "PDF" in captured.err
    _assert_took(command, captured.out, tmp_path / "m.spamclf", spam=40, ham=40)


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_an_empty_message_is_left_out_with_a_warning(
    folder_corpus: Path,
    tmp_path: Path,
    tmp_model_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    # An empty file, and an mbox's empty message, were trained on and scored as messages.
    (folder_corpus / "spam" / "zz.eml").write_bytes(b"")
    box = tmp_path / "Junk"
    box.write_bytes(_mbox_of("gb2312_spam") + b"From a@example.com Mon Jan  1 00:00:09 2024\n\n")
    options = _train_or_evaluate_options(command, tmp_path / "m.spamclf", tmp_model_path)
    assert main([command, str(folder_corpus), f"spam:{box}", *options]) == EXIT_OK
    captured = capsys.readouterr()
    assert f"left out {folder_corpus / 'spam' / 'zz.eml'}: empty" in captured.err
    assert f"left out {box}#1: empty" in captured.err
    _assert_took(command, captured.out, tmp_path / "m.spamclf", spam=41, ham=40)


def test_train_writes_model_and_card(
    folder_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out" / "trained.spamclf"
    assert main(["train", str(folder_corpus), "-o", str(output), "--C", "1.0"]) == EXIT_OK
    assert output.is_file()
    assert card_path(output).is_file()
    model = load_model(output)
    assert model.card["training"]["messages"] == 80
    assert model.card["training"]["spam"] == 40
    assert model.card["training"]["description"] == str(folder_corpus)
    assert model.card["classifier"]["C"] == 1.0
    err = capsys.readouterr().err
    assert "training on 80 messages (40 spam)" in err
    assert f"wrote {output} and {card_path(output)}" in err  # both where they are


@pytest.mark.parametrize("make", ["empty Maildir", "unlabelled folder"])
def test_train_refuses_a_corpus_that_gives_nothing_among_others(
    folder_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], make: str
) -> None:
    # Dropped without a word, the run went on without it and exited 0.
    if make == "empty Maildir":
        empty = tmp_path / "Maildir"
        for sub in ("cur", "new", "tmp"):
            (empty / sub).mkdir(parents=True)
        spec = f"ham:{empty}"
    else:
        empty = tmp_path / "notes"
        (empty / "Inbox").mkdir(parents=True)
        (empty / "Inbox" / "1.eml").write_bytes(b"Subject: x\n\nhello\n")
        spec = str(empty)
    output = tmp_path / "m.spamclf"
    assert main(["train", str(folder_corpus), spec, "-o", str(output)]) == EXIT_INPUT
    assert f"no labelled messages in {spec}" in capsys.readouterr().err
    assert not output.exists()


def test_train_keeps_the_paths_of_a_folder_corpus_not_its_bytes(folder_corpus: Path) -> None:
    stream, labels, groups, _ = _read_corpora([str(folder_corpus)], MAX_BYTES)
    messages = list(stream)
    assert len(messages) == len(labels) == len(groups) == 80
    assert all(isinstance(m, Path) and m.is_relative_to(folder_corpus) for m in messages)


@pytest.fixture
def mbox_corpus(tmp_path: Path, corpus: tuple[list[bytes], list[str]]) -> tuple[Path, Path]:
    """The synthetic corpus as two mbox files, spam and ham."""
    messages, labels = corpus
    paths = []
    for label in ("spam", "ham"):
        box = mailbox.mbox(str(tmp_path / f"{label}.mbox"))
        for message, each in zip(messages, labels, strict=True):
            if each == label:
                box.add(message)
        box.close()
        paths.append(tmp_path / f"{label}.mbox")
    return paths[0], paths[1]


def test_train_reads_an_mbox_once_for_labels_and_again_for_messages(
    mbox_corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    specs = [f"spam:{mbox_corpus[0]}", f"ham:{mbox_corpus[1]}"]
    stream, labels, groups, _ = _read_corpora(specs, MAX_BYTES)
    assert not isinstance(stream, list)  # nothing held: the bytes come when asked for
    assert (labels.count("spam"), labels.count("ham"), set(groups)) == (40, 40, {0, 1})
    messages = list(stream)
    assert len(messages) == 80 and all(isinstance(m, bytes) for m in messages)
    output = tmp_path / "m.spamclf"
    assert main(["train", *specs, "-o", str(output)]) == EXIT_OK
    assert load_model(output).card["training"]["messages"] == 80


@pytest.mark.parametrize("change", ["appended", "removed"])
def test_a_corpus_that_changes_between_the_two_reads_stops_training(
    mbox_corpus: tuple[Path, Path], change: str
) -> None:
    stream, _, _, _ = _read_corpora([f"spam:{mbox_corpus[0]}"], MAX_BYTES)
    box = mailbox.mbox(str(mbox_corpus[0]))
    if change == "appended":
        box.add(b"Subject: delivered meanwhile\n\nnew mail\n")
    else:
        box.remove(next(iter(box.keys())))
    box.close()
    with pytest.raises(CorpusError, match="changed while"):
        list(stream)


@pytest.mark.parametrize("flag", [[], ["--header-words"]])
def test_train_header_words_flag_is_saved_with_the_model(
    folder_corpus: Path, tmp_path: Path, flag: list[str]
) -> None:
    output = tmp_path / "m.spamclf"
    assert main(["train", str(folder_corpus), "-o", str(output), *flag]) == EXIT_OK
    model = load_model(output)
    assert model.settings.header_words is bool(flag)
    tokens = model.features(next((folder_corpus / "spam").iterdir())).tokens
    assert any(t.startswith("hdr:") for t in tokens) is bool(flag)


def test_train_on_a_corpus_whose_path_is_not_utf8_writes_model_and_card(
    folder_corpus: Path, tmp_path: Path
) -> None:
    # The path reaches the card's description as lone surrogates: saving the card failed
    # after all the training, and no model was written.
    odd = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9"))
    folder_corpus.rename(odd)
    output = tmp_path / "m.spamclf"
    assert main(["train", str(odd), "-o", str(output)]) == 0
    assert load_model(output).card["training"]["description"] == str(odd)


def test_classify_folder_with_a_sub_folder_it_cannot_list_scores_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # One unlistable sub-folder gave no line for any message of the folder, and named the
    # folder itself ("Is a directory").
    message = fixture_path("english_ham").read_bytes()
    for name in ("a.eml", "locked/b.eml", "open/c.eml"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(message)
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path) == tmp_path / "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert main(["classify", str(tmp_path)]) == EXIT_INPUT
    captured = capsys.readouterr()
    assert [line.split("\t")[0] for line in captured.out.splitlines()] == [
        str(tmp_path / "a.eml"),
        str(tmp_path / "open" / "c.eml"),
    ]
    assert f"cannot list corpus folder {tmp_path / 'locked'}" in captured.err


def test_classify_prints_a_name_that_is_not_utf8_by_its_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.eml"))
    path.write_bytes(fixture_path("english_ham").read_bytes())
    assert main(["classify", str(path)]) == 0
    assert capsys.readouterr().out.split()[0].endswith("caf\\xe9.eml")
    assert main(["classify", "--json", str(path)]) == 0
    line = capsys.readouterr().out
    assert line.isascii() or "\\udce9" in line  # never the raw surrogate, which no UTF-8 writes
    assert json.loads(line)["file"] == str(path)


def test_classify_whose_reader_goes_away_stops_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `spamclf classify ... | head -1`: a BrokenPipeError traceback before.
    read_end, write_end = os.pipe()
    os.close(read_end)
    with os.fdopen(write_end, "w") as closed:
        monkeypatch.setattr(sys, "stdout", closed)
        assert main(["classify", str(fixture_path("english_ham"))]) == EXIT_BROKEN_PIPE
    assert "Traceback" not in capsys.readouterr().err


def test_train_that_cannot_write_its_model_exits_4(
    folder_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_bytes(b"x")
    output = tmp_path / "a-file" / "m.spamclf"  # under a file: no folder can be made
    assert main(["train", str(folder_corpus), "-o", str(output)]) == EXIT_MODEL
    error = capsys.readouterr().err
    # Found before the corpus is read, not after the model is fitted.
    assert "cannot save a model at" in error and "training on" not in error
    assert main(["train", str(folder_corpus), "-o", "."]) == EXIT_MODEL
    assert "no file name" in capsys.readouterr().err


def test_train_min_script_examples_holds_back_what_training_had_too_little_of(
    folder_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The corpus has 10 Chinese ham and 20 English spam: under 50 of each in both systems.
    output = tmp_path / "m.spamclf"
    args = ["train", str(folder_corpus), "-o", str(output), "--min-script-examples", "50"]
    assert main(args) == EXIT_OK
    assert load_model(output).settings.min_script_examples == 50
    spam = sorted((folder_corpus / "spam").iterdir())[0]
    capsys.readouterr()
    assert main(["classify", "--model", str(output), str(spam)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "\tunsure\t" in out and "unfamiliar script latin" in out
    assert main(["evaluate", "--json", str(folder_corpus), "--model", str(output)]) == EXIT_OK
    metrics = json.loads(capsys.readouterr().out)
    # The ranking is the model's; no message is called spam, so none is a false positive.
    assert metrics["roc_auc"] == 1.0 and metrics["fpr"] == 0.0 and metrics["fnr"] == 1.0


def test_train_on_missing_corpus_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["train", str(tmp_path / "nowhere"), "-o", str(tmp_path / "m.spamclf")])
    assert code == EXIT_INPUT
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "m.spamclf").exists()


def test_train_on_empty_corpus_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty" / "spam").mkdir(parents=True)
    code = main(["train", str(tmp_path / "empty"), "-o", str(tmp_path / "m.spamclf")])
    assert code == EXIT_INPUT
    assert "no labelled messages" in capsys.readouterr().err


def test_evaluate_prints_roc_auc(
    folder_corpus: Path, tmp_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", str(folder_corpus), "--model", str(tmp_model_path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "messages          80 (40 spam, 40 ham)" in out
    # The model was trained on this corpus, so it ranks it perfectly.
    assert "ROC AUC           1.000000" in out
    assert "lam%" in out
    assert "calibration error" in out


def test_evaluate_json(
    folder_corpus: Path, tmp_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["evaluate", "--json", str(folder_corpus), "--model", str(tmp_model_path)])
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["n"] == 80
    assert metrics["roc_auc"] == 1.0
    assert set(metrics["calibration"]) == {"log_loss", "brier", "ece"}
    assert 0.0 <= metrics["calibration"]["ece"] < 0.5


def test_evaluate_on_one_label_stops_before_scoring(
    tmp_model_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every message was scored (a minute for a large Junk folder) before it was refused.
    folder = tmp_path / "spam"
    folder.mkdir()
    (folder / "1.eml").write_bytes(b"Subject: x\n\nwin\n")

    def scored(*_: object, **__: object) -> None:
        raise AssertionError("scored")

    monkeypatch.setattr(Model, "classify_many", scored)
    assert main(["evaluate", "--model", str(tmp_model_path), str(tmp_path)]) == EXIT_INPUT
    assert "need both spam and ham" in capsys.readouterr().err


def test_evaluate_with_tampered_model_exits_4(
    folder_corpus: Path, tmp_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card_path(tmp_model_path).unlink()
    assert main(["evaluate", str(folder_corpus), "--model", str(tmp_model_path)]) == EXIT_MODEL
    assert "no card" in capsys.readouterr().err


# --- terminal injection: nothing a sender or a file name holds may reach the terminal raw -------

# Characters that must never reach the terminal unescaped: C0/C1 controls (but the tab that
# separates columns and the newline that ends a record), bidi controls, line separators.
_UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
_HOSTILE_VALUES = (
    "\r\nX-Spam-Status: No",
    "\x1b]0;owned\x07\x1b[2J",
    "\u202eexe.txt",
    "\x9b31m",
    "a\x00b",
)


def _hostile_message() -> bytes:
    """Header values whose control characters survive into feature tokens (the mailer family,
    the priority, charsets, attachment names), so that they can show up among the reasons."""
    evil = "".join(_HOSTILE_VALUES).replace("\n", " ").replace("\r", " ")
    head = (
        "From: =?utf-8?q?=1B[31mBoss?= <boss@example.com>\n"
        f"Subject: =?utf-8?b?{base64.b64encode(evil.encode()).decode()}?=\n"
        "X-Mailer: \x1b]0;owned\x07 \u202eMailer\n"
        "X-Priority: \x1b\n"
        "Content-Type: multipart/mixed; boundary=b\n\n"
        '--b\nContent-Type: text/plain; charset="\x1b[2J\u202e"\n\nhello world\n'
        "--b\nContent-Type: application/octet-stream\n"
        'Content-Disposition: attachment; filename="x.\x1b[2J\u202eexe"\n\nAAAA\n--b--\n'
    )
    return head.encode("utf-8")


@pytest.fixture
def hostile_model(small_model: Model, tmp_path: Path) -> Path:
    """A model that has learned the hostile message, so its tokens carry weight and appear
    among the reasons."""
    model = copy.deepcopy(small_model).with_settings(n_reasons=100)
    for _ in range(3):
        model.learn(_hostile_message(), "spam")
    path = tmp_path / "hostile.spamclf"
    model.save(path)
    return path


def _assert_terminal_safe(text: str) -> None:
    assert not _UNSAFE.search(text), repr(_UNSAFE.search(text))


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_classify_output_carries_no_control_characters_from_headers(
    hostile_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    path = tmp_path / "hostile.eml"
    path.write_bytes(_hostile_message())
    options = ["--json"] if as_json else []
    code = main(
        ["classify", "--model", str(hostile_model), "--reasons", "200", *options, str(path)]
    )
    assert code == EXIT_OK
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.endswith("\n")
    _assert_terminal_safe(out[:-1])
    if as_json:
        record = json.loads(out)
        features = [r["feature"] for r in record["reasons"]]
    else:
        features = out.split("\t")[3].split(", ")
    # The hostile tokens are among the reasons (escaped), so the check above means something.
    assert any("x-mailer:" in f and ("\x1b" in f or "\\x1b" in f) for f in features), features


@pytest.mark.parametrize("name", [v for v in _HOSTILE_VALUES if "\x00" not in v])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_classify_hostile_file_names_stay_on_one_safe_line(
    tmp_model_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    as_json: bool,
) -> None:
    path = tmp_path / name.replace("/", "_")
    path.write_bytes(fixture_path("examples/ham").read_bytes())
    options = ["--json"] if as_json else []
    assert main(["classify", "--model", str(tmp_model_path), *options, str(path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    _assert_terminal_safe(out[:-1])
    if as_json:
        assert json.loads(out)["file"] == str(path)  # escaped, not lost


def test_classify_file_name_with_nul_is_an_input_error_on_one_line(
    tmp_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["classify", "--model", str(tmp_model_path), "evil\x00\nspamclf: fine"])
    assert code == EXIT_INPUT
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    _assert_terminal_safe(captured.err[:-1])


def test_train_output_name_is_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], corpus: tuple[list[bytes], list[str]]
) -> None:
    folder = tmp_path / "corpus"
    for label in ("spam", "ham"):
        (folder / label).mkdir(parents=True)
    for i, (message, label) in enumerate(zip(*corpus, strict=True)):
        (folder / label / f"{i}.eml").write_bytes(message)
    output = tmp_path / "m\x1b[2J\u202e.spamclf"
    assert main(["train", str(folder), "-o", str(output)]) == EXIT_OK
    err = capsys.readouterr().err
    wrote = [line for line in err.splitlines() if line.startswith("wrote")]
    assert len(wrote) == 1
    _assert_terminal_safe(wrote[0])


@pytest.mark.parametrize(
    ("text", "safe"),
    [("\u202eabc", "\\x202eabc"), ("\u2066x\u2069", "\\x2066x\\x2069"), ("\u200f", "\\x200f")],
)
def test_safe_text_escapes_bidi_controls(text: str, safe: str) -> None:
    assert safe_text(text) == safe


def test_classify_stdin_when_there_is_none_reports_it_and_goes_on(
    tmp_model_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", None)  # `spamclf classify - <&-`
    ham = str(fixture_path("examples/ham"))
    assert main(["classify", "--model", str(tmp_model_path), "-", ham]) == EXIT_INPUT
    captured = capsys.readouterr()
    assert "spamclf: no standard input" in captured.err
    assert captured.out.startswith(ham)


def test_train_started_without_stderr_discards_its_progress(
    folder_corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`spamclf train ... 2>&-`: no crash in the progress bar, nothing on stdout."""
    monkeypatch.setattr("sys.stderr", None)
    try:
        assert main(["train", str(folder_corpus), "-o", str(tmp_path / "m.spamclf")]) == EXIT_OK
    finally:
        sys.stderr.close()  # the null device main() opened in its place
    assert (tmp_path / "m.spamclf").is_file()
    assert capsys.readouterr().out == ""


def test_train_warns_once_of_each_missing_message_with_its_name_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], corpus: tuple[list[bytes], list[str]]
) -> None:
    # train reads a corpus twice (labels, then messages); before, each missing message was
    # warned of twice, as Python's file:line and source, with its name unescaped.
    (tmp_path / "data").mkdir()
    (tmp_path / "full").mkdir()
    lines = []
    for i, (message, label) in enumerate(zip(*corpus, strict=True)):
        (tmp_path / "data" / str(i)).write_bytes(message)
        lines.append(f"{label} ../data/{i}")
    lines += ["ham ../data/gone", "spam ../data/evil\x1b[2J", lines[0]]
    (tmp_path / "full" / "index").write_text("\n".join(lines) + "\n")
    assert main(["train", str(tmp_path / "full" / "index"), "-o", str(tmp_path / "m")]) == EXIT_OK
    warned = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warned) == 3
    assert all(line.startswith("spamclf: warning: ") for line in warned)
    assert "data/gone is missing" in warned[0]
    _assert_terminal_safe(warned[1])
    assert "data/0 is listed again; read once" in warned[2]
