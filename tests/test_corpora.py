"""Tests of spamclf.corpora on tiny corpora built in tmp_path."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import mailbox
import os
import random
import re
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest

from spamclf.corpora import (
    DuplicateMessageWarning,
    JoinedRowsWarning,
    LabelledMessage,
    MessageHead,
    MissingMessageWarning,
    drain_holds_several_messages,
    holds_several_messages,
    mbox_heads,
    mbox_messages,
    message_files,
    normalize_label,
    read_corpus,
    read_csv,
    read_folders,
    read_maildir,
    read_mbox,
    read_trec,
    split_benchmark,
)
from spamclf.errors import CorpusError
from spamclf.inputs import read_head, read_heads


def _msg(subject: str) -> bytes:
    return f"From: a@example.com\nSubject: {subject}\n\nbody of {subject}\n".encode()


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _make_trec(
    root: Path, entries: list[tuple[str, str]], missing: frozenset[str] = frozenset()
) -> Path:
    """A TREC layout: root/data/000/NNN files and root/full/index with ../data paths."""
    lines = []
    for label, name in entries:
        if name not in missing:
            _write(root / "data" / "000" / name, _msg(name))
        lines.append(f"{label} ../data/000/{name}\n")
    return _write(root / "full" / "index", "".join(lines).encode())


def _subjects(messages: list[LabelledMessage]) -> list[str]:
    return [m.raw.split(b"Subject: ")[1].split(b"\n")[0].decode() for m in messages]


# --- normalize_label -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("spam", "spam"),
        ("SPAM", "spam"),
        (" Ham\n", "ham"),
        ("ham", "ham"),
        (1, "spam"),
        (0, "ham"),
        (True, "spam"),
        (False, "ham"),
        ("1", "spam"),
        ("0", "ham"),
        (np.int64(1), "spam"),
        (np.True_, "spam"),
        (np.False_, "ham"),
    ],
)
def test_normalize_label_accepts(value: object, expected: str) -> None:
    assert normalize_label(value) == expected


@pytest.mark.parametrize("value", ["spammy", "", "2", 2, -1, 1.0, None, "yes", b"spam"])
def test_normalize_label_rejects(value: object) -> None:
    with pytest.raises(CorpusError, match="unrecognised label"):
        normalize_label(value)


def test_labelled_message_rejects_unnormalized_label() -> None:
    with pytest.raises(CorpusError):
        LabelledMessage(b"x", "SPAM", "here")


# --- TREC ------------------------------------------------------------------------------------


def test_read_trec_resolves_relative_paths_in_index_order(tmp_path: Path) -> None:
    index = _make_trec(tmp_path, [("spam", "002"), ("ham", "000"), ("SPAM", "001")])
    messages = list(read_trec(index))
    assert [m.label for m in messages] == ["spam", "ham", "spam"]
    assert _subjects(messages) == ["002", "000", "001"]  # index order, not file name order
    assert messages[0].source == str(tmp_path / "data" / "000" / "002")  # `..` folded away


def test_read_trec_reads_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    index = _make_trec(tmp_path, [("spam", "000")])
    _write(tmp_path / "data" / "000" / "caf\udce9", _msg("latin-1 name"))  # b"caf\xe9"
    index.write_bytes(index.read_bytes() + b"ham ../data/000/caf\xe9\n")
    messages = list(read_trec(index))
    assert [m.label for m in messages] == ["spam", "ham"]
    assert _subjects(messages) == ["000", "latin-1 name"]


def test_read_trec_reads_an_index_saved_with_a_byte_order_mark(tmp_path: Path) -> None:
    # Saved by Windows Notepad: its first label, read as "\ufeffspam", stopped the run.
    index = _make_trec(tmp_path, [("spam", "000"), ("ham", "001")])
    index.write_bytes(b"\xef\xbb\xbf" + index.read_bytes().replace(b"\n", b"\r\n"))
    assert [m.label for m in read_trec(index)] == ["spam", "ham"]


def test_read_trec_through_a_linked_index_folder(tmp_path: Path) -> None:
    # ../data from a link to full/ is the data beside the real full/, not beside the link:
    # folded by text, every message was "missing".
    index = _make_trec(tmp_path / "corpus", [("spam", "000"), ("ham", "001")])
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "full").symlink_to(index.parent, target_is_directory=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        messages = list(read_trec(tmp_path / "elsewhere" / "full" / "index"))
    assert _subjects(messages) == ["000", "001"]


def test_read_trec_skips_missing_file_with_warning(tmp_path: Path) -> None:
    index = _make_trec(
        tmp_path, [("spam", "000"), ("ham", "001"), ("spam", "002")], frozenset({"001"})
    )
    with pytest.warns(MissingMessageWarning, match="001"):
        messages = list(read_trec(index))
    assert _subjects(messages) == ["000", "002"]


@pytest.mark.parametrize(
    ("again", "said"),
    [("spam", "listed again; read once"), ("ham", "again as ham (first as spam)")],
)
def test_read_trec_reads_a_file_listed_twice_once(tmp_path: Path, again: str, said: str) -> None:
    index = _make_trec(tmp_path, [("spam", "000"), ("ham", "001")])
    index.write_bytes(index.read_bytes() + f"{again} ../data/000/000\n".encode())
    with pytest.warns(DuplicateMessageWarning, match=re.escape(said)):
        messages = list(read_trec(index))
    assert [m.label for m in messages] == ["spam", "ham"]
    assert _subjects(messages) == ["000", "001"]


@pytest.mark.parametrize("line", ["spam\n", "spam a b\n", "maybe ../data/000/000\n"])
def test_read_trec_rejects_malformed_line(tmp_path: Path, line: str) -> None:
    index = _write(tmp_path / "full" / "index", line.encode())
    with pytest.raises(CorpusError, match=":1:"):
        list(read_trec(index))


def test_read_trec_is_lazy(tmp_path: Path) -> None:
    index = _make_trec(tmp_path, [("spam", "000"), ("ham", "001")])
    stream = read_trec(index)
    first = next(stream)
    (tmp_path / "data" / "000" / "001").write_bytes(_msg("changed"))  # read after the first yield
    assert first.label == "spam"
    assert _subjects([next(stream)]) == ["changed"]


def test_file_corpora_read_a_file_only_when_asked_and_containers_hold_bytes(
    tmp_path: Path,
) -> None:
    # Training gets the path and reads only as far as a model reads, so a corpus holding
    # messages of hundreds of megabytes is never held in memory.
    trec = next(read_trec(_make_trec(tmp_path / "trec", [("spam", "000")])))
    folder_file = _write(tmp_path / "folders" / "ham" / "1", _msg("folder"))
    folder = next(read_folders(tmp_path / "folders"))
    box_path = tmp_path / "box.mbox"
    _fill(mailbox.mbox(str(box_path)), ["boxed"])
    boxed = next(read_mbox(box_path, "ham"))
    assert trec.content == tmp_path / "trec" / "data" / "000" / "000"
    assert trec.raw == _msg("000")
    assert folder.content == folder_file
    folder_file.write_bytes(_msg("changed"))  # read when asked for, not when listed
    assert folder.raw == _msg("changed")
    assert boxed.content == boxed.raw == _msg("boxed")


def test_a_file_that_vanished_raises_corpus_error_when_read(tmp_path: Path) -> None:
    message = next(read_trec(_make_trec(tmp_path, [("spam", "000")])))
    message.content.unlink()  # type: ignore[union-attr]
    with pytest.raises(CorpusError, match="cannot read message"):
        _ = message.raw


def test_split_benchmark_holds_bytes(tmp_path: Path) -> None:
    _make_trec(tmp_path / "trec06c", [("spam", f"{i:03d}") for i in range(10)])
    train, test = split_benchmark("trec06c", tmp_path)
    assert all(isinstance(m.content, bytes) for m in train + test)


# --- folders ---------------------------------------------------------------------------------


def test_read_folders_labels_by_folder_and_skips_non_messages(tmp_path: Path) -> None:
    for name in ("b", "a"):
        _write(tmp_path / "easy_ham" / name, _msg(f"easy_ham/{name}"))
        _write(tmp_path / "spam_2" / name, _msg(f"spam_2/{name}"))
    _write(tmp_path / "hard_ham" / "x", _msg("hard_ham/x"))
    _write(tmp_path / "spam" / "cmds", b"mv 1 2\n")  # SpamAssassin's rename script
    _write(tmp_path / "spam" / ".hidden", _msg("hidden"))
    _write(tmp_path / ".git" / "spam" / "obj", _msg("in hidden folder"))
    _write(tmp_path / "README", b"not in a labelled folder")
    messages = list(read_folders(tmp_path))
    assert _subjects(messages) == ["easy_ham/a", "easy_ham/b", "hard_ham/x", "spam_2/a", "spam_2/b"]
    assert [m.label for m in messages] == ["ham", "ham", "ham", "spam", "spam"]


def test_read_folders_walks_recursively_like_enron(tmp_path: Path) -> None:
    _write(tmp_path / "enron2" / "spam" / "1.txt", _msg("e2 spam"))
    _write(tmp_path / "enron1" / "ham" / "sub" / "1.txt", _msg("e1 ham nested"))
    _write(tmp_path / "enron1" / "Summary.txt", b"summary")
    messages = list(read_folders(tmp_path, spam=("spam",), ham=("ham",)))
    assert [(m.label, s) for m, s in zip(messages, _subjects(messages), strict=True)] == [
        ("ham", "e1 ham nested"),
        ("spam", "e2 spam"),
    ]


def test_read_folders_deepest_label_folder_wins(tmp_path: Path) -> None:
    _write(tmp_path / "spam" / "ham" / "1", _msg("inner ham"))
    assert [m.label for m in read_folders(tmp_path / "spam")] == ["ham"]


def test_read_folders_uses_root_name_as_label(tmp_path: Path) -> None:
    _write(tmp_path / "spam" / "1", _msg("one"))
    _write(tmp_path / "spam" / "2024" / "2", _msg("two"))
    assert [m.label for m in read_folders(tmp_path / "spam")] == ["spam", "spam"]


@pytest.mark.parametrize("root", ["spam", "Junk", "ham"])
def test_a_root_named_for_a_label_that_holds_label_folders_labels_nothing_itself(
    tmp_path: Path, root: str
) -> None:
    # A folder of corpora named for a label: its READMEs and unlabelled trees are no messages.
    _write(tmp_path / root / "README.txt", b"corpora downloaded in 2024")
    _write(tmp_path / root / "enron1" / "Summary.txt", b"summary")
    _write(tmp_path / root / "enron1" / "ham" / "1", _msg("h1"))
    _write(tmp_path / root / "enron1" / "spam" / "2", _msg("s2"))
    _write(tmp_path / root / "trec" / "data" / "000", _msg("trec"))
    _write(tmp_path / root / "trec" / "full" / "index", b"ham ../data/000\n")
    messages = list(read_folders(tmp_path / root))
    assert [(m.label, s) for m, s in zip(messages, _subjects(messages), strict=True)] == [
        ("ham", "h1"),
        ("spam", "s2"),
    ]


@pytest.mark.parametrize(
    ("spam", "ham", "match"),
    [(("spam",), ("spam",), "both spam and ham"), (("spam",), ("ham",), "does not exist")],
)
def test_read_folders_errors(
    tmp_path: Path, spam: tuple[str, ...], ham: tuple[str, ...], match: str
) -> None:
    root = tmp_path if "both" in match else tmp_path / "nope"
    with pytest.raises(CorpusError, match=match):
        list(read_folders(root, spam=spam, ham=ham))


# --- mbox and Maildir ------------------------------------------------------------------------


def _fill(box: mailbox.Mailbox, subjects: list[str]) -> None:
    for subject in subjects:
        box.add(_msg(subject))
    box.flush()
    box.close()


def test_read_mbox_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "box.mbox"
    _fill(mailbox.mbox(str(path)), ["one", "two", "three"])
    messages = list(read_mbox(path, "SPAM"))
    assert _subjects(messages) == ["one", "two", "three"]
    assert {m.label for m in messages} == {"spam"}
    assert not messages[0].raw.startswith(b"From ")  # the mbox separator is not message content
    assert messages[0].raw == _msg("one")


def test_read_mbox_keeps_an_unescaped_body_from_line_in_its_message(tmp_path: Path) -> None:
    # mboxo writers leave a body line "From ..." as it is; mailbox cut the message there and
    # made "bye" a message of its own. A separator is a "From " line before a header line.
    path = _write(
        tmp_path / "box.mbox",
        b"From a@example.com Mon Jan  1 00:00:00 2024\nSubject: one\n\nHi\n"
        b"From the desk of the CEO\nbye\n\n"
        b"From b@example.com Mon Jan  1 00:00:01 2024\nSubject: two\n\nyo\n\n",
    )
    messages = list(read_mbox(path, "ham"))
    assert [m.raw for m in messages] == [
        b"Subject: one\n\nHi\nFrom the desk of the CEO\nbye\n",
        b"Subject: two\n\nyo\n",
    ]
    assert [m.source for m in messages] == [f"{path}#0", f"{path}#1"]


def test_read_mbox_reads_what_mailbox_reads_where_bodies_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "box.mbox"
    box = mailbox.mbox(str(path))
    for body in ("From the desk\n>From here\n", "\n\n", "x: y\r\nFrom: a\n", ""):
        box.add(b"Subject: s\n\n" + body.encode())  # mailbox writes ">From the desk"
    box.flush()
    expected = [box.get_bytes(key) for key in box.iterkeys()]
    box.close()
    assert [m.raw for m in read_mbox(path, "spam")] == expected


def test_read_mbox_reads_a_message_with_no_header_as_a_message_of_its_own(
    tmp_path: Path,
) -> None:
    # Its "From " line, with no header line after it, was read as a body line: the message
    # joined the one before it, as did an empty one.
    path = tmp_path / "box.mbox"
    box = mailbox.mbox(str(path))
    for message in (b"Subject: one\n\nhi\n", b"\nno header\n", b"", b"Subject: two\n\nyo\n"):
        box.add(message)
    box.flush()
    expected = [box.get_bytes(key) for key in box.iterkeys()]
    box.close()
    assert [m.raw for m in read_mbox(path, "spam")] == expected
    assert len(expected) == 4
    # Told from one message too (spamclf classify FILE gave one line for the two).
    assert holds_several_messages(
        b"From a@example.com Mon Jan  1 00:00:00 2024\nSubject: one\n\nhi\n\n"
        b"From b@example.com Mon Jan  1 00:00:01 2024\n\nno header\n"
    )


def test_read_mbox_leaves_out_what_thunderbird_deleted_or_moved(tmp_path: Path) -> None:
    # Thunderbird keeps a message it deleted, or moved to Junk, in the file until the folder is
    # compacted, flagged 0x0008: a spam moved out of the Inbox was trained on as ham too.
    def message(status: str, subject: str) -> bytes:
        return (
            f"From - Mon Jan 01 00:00:00 2024\r\nX-Mozilla-Status: {status}\r\n"
            f"X-Mozilla-Status2: 00000000\r\nSubject: {subject}\r\n\r\nbody\r\n\r\n"
        ).encode()

    path = _write(
        tmp_path / "Inbox",
        message("0001", "read")
        + message("0009", "moved to Junk")
        + message("0000", "unread")
        + b"From - Mon Jan 01 00:00:00 2024\nSubject: no flags\n\nX-Mozilla-Status: 0009\n",
    )
    with pytest.warns(UserWarning, match=r"Inbox: left out 1 message\(s\) that Thunderbird"):
        messages = list(read_corpus(f"ham:{path}"))
    assert _subjects(messages) == ["read\r", "unread\r", "no flags"]
    assert [m.source.rpartition("#")[2] for m in messages] == ["0", "2", "3"]


def test_read_maildir_round_trip_sorted_over_new_and_cur(tmp_path: Path) -> None:
    path = tmp_path / "Maildir"
    box = mailbox.Maildir(str(path))
    key = box.add(_msg("seen"))
    box.add(_msg("unseen"))
    seen = box.get_message(key)
    seen.set_subdir("cur")  # one message in cur/, one in new/
    box[key] = seen
    box.flush()
    messages = list(read_maildir(path, 0))
    assert sorted(_subjects(messages)) == ["seen", "unseen"]
    assert {m.label for m in messages} == {"ham"}
    assert [m.source for m in messages] == sorted(m.source for m in messages)


def test_read_maildir_gives_paths_and_skips_hidden_files(tmp_path: Path) -> None:
    path = tmp_path / "Maildir"
    _fill(mailbox.Maildir(str(path)), ["one"])
    _write(path / "cur" / "1700000000.M1P2.host:2,S", _msg("flagged"))
    _write(path / "cur" / ".hidden", b"not a message")
    messages = list(read_maildir(path, "spam"))
    assert sorted(_subjects(messages)) == ["flagged", "one"]
    assert all(isinstance(m.content, Path) for m in messages)
    assert f"{path}#1700000000.M1P2.host" in {m.source for m in messages}


def test_read_maildir_reads_a_key_in_new_and_cur_once(tmp_path: Path) -> None:
    # A client moved the message to cur/ (and flagged it) while a copy was being made: one
    # message, as mailbox.Maildir keys it, read once as its cur/ file (its later state).
    path = tmp_path / "Maildir"
    _fill(mailbox.Maildir(str(path)), ["other"])
    _write(path / "new" / "1700000000.M1P2.host", _msg("unread copy"))
    _write(path / "cur" / "1700000000.M1P2.host:2,S", _msg("moved"))
    with pytest.warns(DuplicateMessageWarning, match=r"1700000000\.M1P2\.host is there twice"):
        messages = list(read_maildir(path, "ham"))
    assert sorted(_subjects(messages)) == ["moved", "other"]
    assert len(messages) == len(mailbox.Maildir(str(path), create=False).keys())


@pytest.mark.parametrize("kind", ["folders", "labelled folder", "maildir", "files"])
def test_a_named_pipe_among_message_files_is_left_out_with_a_warning(
    tmp_path: Path, kind: str
) -> None:
    # Opened, a named pipe with no writer waits forever; left out silently, it was a message
    # the user never heard of. Nothing here opens it (a test that did would hang).
    root = tmp_path / ("mail" if kind == "labelled folder" else "spam")
    folder = root / "cur" if kind == "maildir" else root
    _write(folder / "1", _msg("one"))
    (root / "new").mkdir()
    os.mkfifo(folder / "pipe")
    read = {
        "folders": lambda: [m.raw for m in read_folders(tmp_path)],
        "labelled folder": lambda: [m.raw for m in read_corpus(f"spam:{root}")],
        "maildir": lambda: [m.raw for m in read_maildir(root, "spam")],
        "files": lambda: [p.read_bytes() for p in message_files(root)],
    }[kind]
    with pytest.warns(UserWarning, match=r"left out .*pipe: a named pipe, not a message file"):
        assert read() == [_msg("one")]


def test_a_corpus_that_is_a_named_pipe_says_so(tmp_path: Path) -> None:
    # spam:<(zcat Junk.gz) was "does not exist"; a corpus is read twice, which a pipe is not.
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(CorpusError, match="is a named pipe: a corpus is read twice"):
        read_corpus(f"spam:{tmp_path / 'pipe'}")


@pytest.mark.parametrize("reader", [read_mbox, read_maildir])
def test_mailbox_readers_reject_missing_path(tmp_path: Path, reader) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        list(reader(tmp_path / "missing", "spam"))


def _unsearchable(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make ``folder`` listable but not searchable, as ``chmod 644`` does (tests may run as
    root, whom permissions do not stop): a stat of a path in it fails with EACCES."""
    real_stat = os.stat

    def stat(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(os.fsdecode(path)).parent == folder:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)


@pytest.mark.parametrize(
    "read",
    [
        lambda root: read_trec(
            _make_trec(root, [("ham", "1"), ("spam", "0" * 300)], frozenset({"0" * 300}))
        ),
        lambda root: read_corpus(str(root / ("a" * 300))),
    ],
    ids=["trec-entry", "corpus-spec"],
)
def test_a_path_the_file_system_cannot_look_at_raises_corpus_error(tmp_path: Path, read) -> None:
    with pytest.raises(CorpusError, match="File name too long"):
        list(read(tmp_path))


def test_a_trec_message_in_an_unsearchable_folder_raises_corpus_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = _make_trec(tmp_path, [("spam", "000")])
    _unsearchable(monkeypatch, tmp_path / "data" / "000")
    with pytest.raises(CorpusError, match=r"cannot read .*000: Permission denied"):
        list(read_trec(index))


@pytest.mark.parametrize("kind", ["folders", "maildir"])
def test_a_message_file_that_cannot_be_looked_at_is_still_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    # It is listed, so that its read fails and says why (the file system refuses that read,
    # which root's tests cannot see), and the messages in readable folders are still read.
    folder = tmp_path / "ham" if kind == "folders" else tmp_path / "cur"
    _write(folder / "1", _msg("unreadable"))
    _write(tmp_path / ("spam" if kind == "folders" else "new") / "2", _msg("readable"))
    _unsearchable(monkeypatch, folder)
    messages = list(read_corpus(str(tmp_path) if kind == "folders" else f"spam:{tmp_path}"))
    assert sorted(m.content for m in messages) == sorted([folder / "1", *tmp_path.glob("*/2")])


# --- CSV -------------------------------------------------------------------------------------


def test_read_csv_embedded_newline_and_skipped_labels(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(
        'label,text\nspam,"win money\nnow, really"\n0,hello\nsmishing,click\nHAM,été\n',
        encoding="utf-8",
    )
    messages = list(read_csv(path))
    assert [(m.label, m.raw) for m in messages] == [
        ("spam", b"win money\nnow, really"),
        ("ham", b"hello"),
        ("ham", "été".encode()),
    ]
    assert messages[-1].source == f"{path}#4"


def test_read_csv_warns_of_rows_an_unbalanced_quote_joined(tmp_path: Path) -> None:
    # The quote before "Unclosed" never closes: the csv module reads the three rows after it
    # into its text, and the joined row has no label, so all four were skipped in silence.
    path = tmp_path / "data.csv"
    path.write_text('text,label\nhello,ham\n"Unclosed,spam\nsecond,ham\nthird,spam\n')
    with pytest.warns(JoinedRowsWarning, match=r"data.csv#2: its text holds 3 line\(s\)"):
        messages = list(read_csv(path))
    assert [m.raw for m in messages] == [b"hello"]


def test_read_csv_does_not_warn_of_a_multi_line_body(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text('text,label\n"Dear all,\nthe spam filter, ham radio and\nlunch",ham\n')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(read_csv(path))) == 1


def test_read_csv_custom_columns_and_values(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("\ufeffv1,v2\nsmishing,click here\nnormal,hi\n", encoding="utf-8")  # with BOM
    messages = list(read_csv(path, "v2", "v1", spam_values=("smishing",), ham_values=("normal",)))
    assert [m.label for m in messages] == ["spam", "ham"]


def test_read_csv_finds_its_columns_whatever_their_case_and_blanks(tmp_path: Path) -> None:
    # pandas writes a frame's column names as they are ("Text", "Label"): no column was found.
    path = tmp_path / "d.csv"
    path.write_text("Label, Text ,extra\nSpam,win,1\nham,hi,2\n", encoding="utf-8")
    assert [(m.label, m.raw) for m in read_csv(path)] == [("spam", b"win"), ("ham", b"hi")]


@pytest.mark.parametrize(
    ("content", "kwargs", "match"),
    [
        ("a,b\nspam,x\n", {}, "no column"),
        ("Text,TEXT,label\nx,y,spam\n", {}, "no column 'text'"),
        ("label,text\nmaybe,x\n", {}, "none of 1 rows"),
        (
            "label,text\nspam,x\n",
            {"spam_values": ("x",), "ham_values": ("X",)},
            "both spam and ham",
        ),
    ],
)
def test_read_csv_errors(tmp_path: Path, content: str, kwargs: dict, match: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError, match=match):
        list(read_csv(path, **kwargs))


def test_read_csv_keeps_bytes_of_another_charset_as_they_are(tmp_path: Path) -> None:
    # Excel saves "CSV" in the Windows code page: the first byte of cp1252 that is no UTF-8
    # stopped the run. Kept as it was, the charset detection reads it, as in any message.
    path = _write(tmp_path / "excel.csv", "text,label\r\ncafé crème,ham\r\n".encode("cp1252"))
    assert [m.raw for m in read_csv(path)] == ["café crème".encode("cp1252")]
    assert _write(path, "text,label\ncafé,ham\n".encode()) and next(read_csv(path)).raw == (
        "café".encode()
    )


def test_read_csv_long_field(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("label,text\nspam," + "x" * 300_000 + "\n", encoding="utf-8")
    assert len(next(read_csv(path)).raw) == 300_000  # over csv's default 128 KiB field limit


# --- read_corpus -----------------------------------------------------------------------------


@pytest.fixture
def corpora(tmp_path: Path) -> dict[str, Path]:
    """One tiny corpus of each format."""
    paths = {"trec": _make_trec(tmp_path / "trec", [("spam", "000"), ("ham", "001")])}
    paths["csv"] = _write(tmp_path / "x.CSV", b"label,text\nspam,hi\n")
    paths["mbox"] = tmp_path / "box"
    _fill(mailbox.mbox(str(paths["mbox"])), ["m1", "m2"])
    paths["maildir"] = tmp_path / "md"
    _fill(mailbox.Maildir(str(paths["maildir"])), ["d1"])
    paths["folders"] = tmp_path / "folders"
    _write(paths["folders"] / "ham" / "1", _msg("f1"))
    return paths


@pytest.mark.parametrize(
    ("kind", "prefix", "labels"),
    [
        ("trec", "", ["spam", "ham"]),
        ("csv", "", ["spam"]),
        ("mbox", "spam:", ["spam", "spam"]),
        ("maildir", "Ham:", ["ham"]),
        ("folders", "", ["ham"]),
    ],
)
def test_read_corpus_dispatch(
    corpora: dict[str, Path], kind: str, prefix: str, labels: list[str]
) -> None:
    assert [m.label for m in read_corpus(prefix + str(corpora[kind]))] == labels


@pytest.mark.parametrize(
    ("kind", "prefix", "match"),
    [
        ("mbox", "", "holds no labels"),
        ("maildir", "", "holds no labels"),
        ("trec", "spam:", "its own labels"),
        ("folders", "ham:", "its own labels"),
    ],
)
def test_read_corpus_label_prefix_rules(
    corpora: dict[str, Path], kind: str, prefix: str, match: str
) -> None:
    with pytest.raises(CorpusError, match=match):
        read_corpus(prefix + str(corpora[kind]))


@pytest.mark.parametrize(("name", "content"), [("missing", None), ("notes.txt", b"hello")])
def test_read_corpus_unknown(tmp_path: Path, name: str, content: bytes | None) -> None:
    path = tmp_path / name if content is None else _write(tmp_path / name, content)
    with pytest.raises(CorpusError):
        read_corpus(str(path))


def test_read_folders_matches_label_folders_case_blind_and_knows_junk(tmp_path: Path) -> None:
    _write(tmp_path / "Spam" / "1", _msg("s1"))
    _write(tmp_path / "Junk" / "2", _msg("s2"))
    _write(tmp_path / "HAM" / "3", _msg("h3"))
    assert [m.label for m in read_folders(tmp_path)] == ["ham", "spam", "spam"]


def test_read_folders_follows_a_linked_label_folder_once(tmp_path: Path) -> None:
    _write(tmp_path / "elsewhere" / "1", _msg("s1"))
    corpus = tmp_path / "corpus"
    _write(corpus / "ham" / "2", _msg("h2"))
    (corpus / "spam").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (corpus / "ham" / "loop").symlink_to(corpus, target_is_directory=True)  # must end
    assert _subjects(list(read_folders(corpus))) == ["h2", "s1"]


class _Listing:
    """``os.scandir`` listing a folder in name order, or in reverse, as a file system may."""

    def __init__(self, scandir, reverse: bool, path: str = ".") -> None:  # type: ignore[no-untyped-def]
        with scandir(path) as entries:
            self.entries = iter(sorted(entries, key=lambda e: e.name, reverse=reverse))

    def __enter__(self) -> _Listing:
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def __iter__(self) -> _Listing:
        return self

    def __next__(self) -> os.DirEntry[str]:
        return next(self.entries)


@pytest.mark.parametrize("reverse", [False, True], ids=["name-order", "reverse-order"])
def test_read_folders_reads_a_folder_linked_again_under_its_own_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reverse: bool
) -> None:
    # spam/old links to ham/: listed first, spam/ claimed ham's files as spam.
    _write(tmp_path / "ham" / "1", _msg("h1"))
    _write(tmp_path / "spam" / "2", _msg("s2"))
    (tmp_path / "spam" / "old").symlink_to(tmp_path / "ham", target_is_directory=True)
    scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda *path: _Listing(scandir, reverse, *path))
    assert [(m.source, m.label) for m in read_folders(tmp_path)] == [
        (str(tmp_path / "ham" / "1"), "ham"),
        (str(tmp_path / "spam" / "2"), "spam"),
    ]


def test_read_folders_of_the_current_folder_knows_its_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "spam" / "1", _msg("s1"))
    monkeypatch.chdir(tmp_path / "spam")
    assert [m.label for m in read_folders(".")] == ["spam"]


def test_read_folders_skips_maildir_bookkeeping_and_deliveries_in_progress(
    tmp_path: Path,
) -> None:
    box = tmp_path / "spam"  # a label folder that is itself a Maildir
    _write(box / "cur" / "1:2,S", _msg("s1"))
    _write(box / "new" / "2", _msg("s2"))
    _write(box / "tmp" / "3", b"half a delivery")
    for name in ("dovecot-uidlist", "dovecot.index.log", "subscriptions", "maildirfolder"):
        _write(box / name, b"bookkeeping")
    _write(box / "Junk.msf", b'// <!-- <mdb:mork:z v="1.4"/> -->')  # Thunderbird's summary
    assert _subjects(list(read_folders(tmp_path))) == ["s1", "s2"]


@pytest.mark.parametrize(
    "bookkeeping",
    [
        "Junk/maildirsize",  # Maildir++ quota
        "Junk/courierpop3dsizelist",
        "msgFilterRules.dat",  # Thunderbird's account folder
        "popstate.dat",
        "filterlog.html",
        "junklog.html",
        "Junk.mbox/Info.plist",  # Apple Mail
        "Junk.mbox/Data/1/Attachments/12/2/invoice.pdf",
    ],
)
def test_message_listings_leave_out_mail_client_bookkeeping(
    tmp_path: Path, bookkeeping: str
) -> None:
    _write(tmp_path / "Junk" / "cur" / "1:2,S", _msg("maildir"))
    (tmp_path / "Junk" / "new").mkdir()
    _write(tmp_path / "Junk.mbox" / "Data" / "1" / "Messages" / "12.emlx", b"17\n" + _msg("emlx"))
    listed = message_files(tmp_path)
    _write(tmp_path / bookkeeping, b"%PDF-1.4\n" if bookkeeping.endswith("pdf") else b"1 2 3\n")
    assert message_files(tmp_path) == listed
    assert len(listed) == 2


def test_read_folders_stops_at_a_folder_it_cannot_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "ham" / "1", _msg("h1"))
    _write(tmp_path / "spam" / "2", _msg("s2"))
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if str(path).endswith("spam"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(CorpusError, match=r"cannot list corpus folder .*spam"):
        list(read_folders(tmp_path))


@pytest.mark.parametrize("unlistable", ["ham/sub", "ham", "."])
def test_message_files_reports_each_folder_it_cannot_list_and_lists_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unlistable: str
) -> None:
    for name in ("ham/1", "ham/sub/2", "spam/3"):
        _write(tmp_path / name, _msg(name))
    refused = tmp_path / unlistable if unlistable != "." else tmp_path
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path) == refused:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(CorpusError, match=f"cannot list corpus folder {re.escape(str(refused))}:"):
        message_files(tmp_path)
    errors: list[CorpusError] = []
    listed = message_files(tmp_path, onerror=errors.append)
    assert [str(e) for e in errors] == [f"cannot list corpus folder {refused}: Permission denied"]
    readable = [
        p for p in ("ham/1", "ham/sub/2", "spam/3") if not (tmp_path / p).is_relative_to(refused)
    ]
    assert listed == [tmp_path / p for p in readable]


def test_read_corpus_labels_a_plain_folder(tmp_path: Path) -> None:
    _write(tmp_path / "mail" / "a.eml", _msg("a"))
    _write(tmp_path / "mail" / "2024" / "b.eml", _msg("b"))
    _write(tmp_path / "mail" / ".DS_Store", b"\x00\x01")
    messages = list(read_corpus(f"spam:{tmp_path / 'mail'}"))
    assert [m.label for m in messages] == ["spam", "spam"]
    assert _subjects(messages) == ["b", "a"]  # sorted by path: 2024/b.eml before a.eml


def test_read_corpus_takes_an_empty_mbox(tmp_path: Path) -> None:
    assert list(read_corpus(f"spam:{_write(tmp_path / 'junk.mbox', b'')}")) == []


def test_drain_counts_what_follows_the_head_and_finds_a_second_message() -> None:
    first = b"From a@example.com Mon Jan  1 00:00:00 2024\nSubject: one\n\n" + b"x\n" * 50_000
    second = b"From b@example.com Mon Jan  1 00:00:01 2024\nSubject: two\n\nbody\n"
    data = io.BytesIO(first + second)
    head = data.read(1000)
    assert drain_holds_several_messages(head, data.read) == (True, len(first + second) - 1000)
    data = io.BytesIO(first)
    head = data.read(1000)
    assert drain_holds_several_messages(head, data.read) == (False, len(first) - 1000)


def test_drain_reads_no_further_than_its_limit_even_past_it_already() -> None:
    # A head longer than the limit (a model reading more than MBOX_SCAN_BYTES of a pipe) asked
    # for a negative size, and read(-1) reads all: /dev/zero never ended.
    asked: list[int] = []

    def endless(size: int) -> bytes:
        asked.append(size)
        return b"\0" * size

    assert drain_holds_several_messages(b"\0" * 100, endless, limit=50) == (False, 0)
    assert drain_holds_several_messages(b"\0" * 10, endless, limit=50) == (False, 40)
    assert all(size > 0 for size in asked)


def test_read_corpus_reads_an_apple_mail_export_as_its_mbox(tmp_path: Path) -> None:
    # Apple Mail's "Export Mailbox" writes Junk.mbox/ holding one mbox file named "mbox": read
    # as a folder, that file was one mbox among message files, left out, and the run stopped.
    export = tmp_path / "Junk.mbox"
    export.mkdir()
    _fill(mailbox.mbox(str(export / "mbox")), ["one", "two", "three"])
    _write(export / "Info.plist", b"<plist/>")
    messages = list(read_corpus(f"spam:{export}"))
    assert _subjects(messages) == ["one", "two", "three"]
    assert {m.label for m in messages} == {"spam"}
    with pytest.raises(CorpusError, match="holds no labels"):
        read_corpus(str(export))


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress])
def test_a_compressed_mbox_reads_as_the_mbox(tmp_path: Path, compress) -> None:
    # Dovecot reads gzip, bzip2 and xz mbox files; so does spamclf, told by their first bytes.
    plain = tmp_path / "box.mbox"
    _fill(mailbox.mbox(str(plain)), ["one", "two"])
    packed = _write(tmp_path / "box.mbox.z", compress(plain.read_bytes()))
    assert [m.raw for m in read_corpus(f"spam:{packed}")] == [_msg("one"), _msg("two")]


def test_a_compressed_mbox_that_cannot_be_read_raises_corpus_error(tmp_path: Path) -> None:
    zstd = _write(tmp_path / "junk.mbox.zst", b"\x28\xb5\x2f\xfd\x24\x05\x29\x00\x00hello")
    with pytest.raises(CorpusError, match="zstd"):
        read_corpus(f"spam:{zstd}")
    cut = gzip.compress(b"From a@b Mon Jan  1 00:00:00 2024\n" + _msg("one") * 500)
    truncated = _write(tmp_path / "cut.mbox.gz", cut[: len(cut) // 2])
    with pytest.raises(CorpusError, match="cannot read mbox"):
        list(read_corpus(f"spam:{truncated}"))


def test_a_maildir_of_compressed_files_reads_as_the_plain_one(tmp_path: Path) -> None:
    # Dovecot's zlib plugin compresses Maildir files in place; the file name keeps its S=size.
    texts = [_msg(f"subject {i}") for i in range(4)]
    for name, data in (("plain", lambda t: t), ("packed", gzip.compress)):
        for i, text in enumerate(texts):
            _write(tmp_path / name / "cur" / f"17000000{i}.M1P1.host,S={len(text)}:2,S", data(text))
        (tmp_path / name / "new").mkdir()
    plain, packed = (list(read_corpus(f"ham:{tmp_path / name}")) for name in ("plain", "packed"))
    assert [m.raw for m in packed] != [m.raw for m in plain]  # stored compressed
    heads = [read_head(m.content, 10**6) for m in packed]
    assert heads == [(text, len(text)) for text in texts]


# --- split_benchmark -------------------------------------------------------------------------


def test_split_benchmark_trec_is_chronological_over_existing_files(tmp_path: Path) -> None:
    names = [f"{i:03d}" for i in range(11)]
    _make_trec(
        tmp_path / "trec06p",
        [("spam" if i % 2 else "ham", n) for i, n in enumerate(names)],
        frozenset({"003"}),
    )
    with pytest.warns(MissingMessageWarning):
        train, test = split_benchmark("trec06p", tmp_path)
    existing = [n for n in names if n != "003"]  # 10 files: 7 train, 3 test
    assert _subjects(train) == existing[:7]
    assert _subjects(test) == existing[7:]


def test_split_benchmark_spamassassin_sorted_then_seeded_shuffle(tmp_path: Path) -> None:
    base = tmp_path / "spamassassin"
    for folder in ("easy_ham", "easy_ham_2", "hard_ham", "spam", "spam_2"):
        for i in range(2):
            _write(base / folder / f"{i}", _msg(f"{folder}/{i}"))
        _write(base / folder / "cmds", b"mv a b\n")
    _write(base / "SOURCE_COMMIT.txt", b"abc")
    train, test = split_benchmark("spamassassin", tmp_path)
    expected = sorted(
        f"{folder}/{i}"
        for folder in ("easy_ham", "easy_ham_2", "hard_ham", "spam", "spam_2")
        for i in range(2)
    )
    random.Random(0).shuffle(expected)
    assert _subjects(train) == expected[:7]
    assert _subjects(test) == expected[7:]
    assert sum(m.label == "spam" for m in train + test) == 4


def test_split_benchmark_enron(tmp_path: Path) -> None:
    for n in (1, 2):
        _write(tmp_path / "enron-spam" / f"enron{n}" / "ham" / "a.txt", _msg(f"h{n}"))
        _write(tmp_path / "enron-spam" / f"enron{n}" / "spam" / "a.txt", _msg(f"s{n}"))
    train, test = split_benchmark("enron-spam", tmp_path)
    assert (len(train), len(test)) == (2, 2)
    assert sorted(_subjects(train + test)) == ["h1", "h2", "s1", "s2"]


@pytest.mark.parametrize(
    ("name", "match"), [("trec07p", "unknown benchmark"), ("trec06c", "not found")]
)
def test_split_benchmark_errors(tmp_path: Path, name: str, match: str) -> None:
    with pytest.raises(CorpusError, match=match):
        split_benchmark(name, tmp_path)


def test_mbox_heads_keep_the_first_bytes_of_each_message_and_count_the_rest(
    tmp_path: Path,
) -> None:
    # A message of megabytes, and one whose body is a single 3 MB line: neither is held whole.
    big = b"Subject: big\n\n" + b"line of text\n" * 250_000
    one_line = b"Subject: one line\n\n" + b"x" * 3_000_000 + b"\nFrom the desk\n"
    path = tmp_path / "box.mbox"
    box = mailbox.mbox(str(path))
    for message in (_msg("first"), big, one_line, _msg("last")):
        box.add(message)
    box.flush()
    expected = [box.get_bytes(key) for key in box.iterkeys()]
    box.close()
    assert list(mbox_messages(path)) == expected
    heads = list(mbox_heads(path, 1_000))
    assert heads == [(m[:1_000], len(m)) for m in expected]
    packed = _write(tmp_path / "box.mbox.xz", lzma.compress(path.read_bytes()))
    assert list(mbox_heads(packed, 1_000)) == heads


def test_mbox_heads_hold_no_message_whole(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "box.mbox",
        b"From a@b Mon Jan  1 00:00:00 2024\nSubject: huge\n\n" + b"x" * 30_000_000 + b"\n",
    )
    tracemalloc.start()
    try:
        [(head, size)] = mbox_heads(path, 1_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (head[:14], len(head), size) == (b"Subject: huge\n", 1_000, 30_000_016)
    assert peak < 5_000_000  # a 1 MB piece of the line at a time, not its 30 MB


def test_read_mbox_keeps_the_head_and_size_of_a_message_longer_than_a_model_reads(
    tmp_path: Path,
) -> None:
    # Held whole, a 200 MB message took 950 MB to train on; a model reads its first bytes only.
    big = b"Subject: big\n\n" + b"line of text\n" * 800_000
    path = tmp_path / "box.mbox"
    box = mailbox.mbox(str(path))
    for message in (_msg("small"), big):
        box.add(message)
    box.flush()
    box.close()
    tracemalloc.start()
    try:
        small, large = read_mbox(path, "ham", max_bytes=1_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3_000_000  # a 1 MB block of lines at a time, not the 10 MB message
    assert small.content == small.raw == _msg("small")
    assert large.content == MessageHead(big[:1_000], len(big))
    assert large.raw == big[:1_000]
    assert list(read_heads([small.content, large.content], 1_000)) == [
        (_msg("small"), len(_msg("small"))),
        (big[:1_000], len(big)),
    ]
