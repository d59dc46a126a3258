"""Readers that turn the public spam corpora into labelled raw messages for (re)training.

Every reader is a generator of :class:`LabelledMessage` in a deterministic order, so a corpus of
hundreds of megabytes streams through training one message at a time, and two runs over the same
files see the same sequence (the benchmark splits depend on it). Messages stay raw ``bytes``:
decoding is the feature extractor's job (:mod:`spamclf.charsets`), and doing it here would hide
the charset mistakes real spam makes.

Formats: the TREC index layout (trec05p/06p/06c/07p), folders named after the label
(SpamAssassin, Enron-Spam), mbox, Maildir and CSV. :func:`read_corpus` picks one from a spec
string; :func:`split_benchmark` fixes the train/test protocol of the project's benchmarks.
"""

from __future__ import annotations

import csv
import errno
import numbers
import os
import random
import re
import stat
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from spamclf.errors import CorpusError, InputError
from spamclf.parse import FIELD_NAME_CHAR, Limits
from spamclf.stored import DECOMPRESSION_ERRORS, MAX_COUNTED_BYTES, open_stored

__all__ = [
    "BENCHMARK_CORPORA",
    "LABELS",
    "MBOX_SCAN_BYTES",
    "CorpusWarning",
    "DuplicateMessageWarning",
    "JoinedRowsWarning",
    "LabelledMessage",
    "MessageHead",
    "MissingMessageWarning",
    "drain_holds_several_messages",
    "file_holds_several_messages",
    "holds_several_messages",
    "mbox_heads",
    "mbox_messages",
    "message_files",
    "normalize_label",
    "read_corpus",
    "read_csv",
    "read_folders",
    "read_labelled_folder",
    "read_maildir",
    "read_mbox",
    "read_trec",
    "split_benchmark",
]

SPAM = "spam"
HAM = "ham"
LABELS = (SPAM, HAM)

# Matched case-blind ("Spam", "Junk", as mail clients name the folders).
DEFAULT_SPAM_FOLDERS = ("spam", "spam_2", "junk")
DEFAULT_HAM_FOLDERS = ("ham", "easy_ham", "easy_ham_2", "hard_ham")
# Files in message folders that are no messages, never trained on nor counted: the `cmds` file
# of the SpamAssassin public corpus (the mv commands that named its messages), the bookkeeping
# Dovecot and Courier keep inside a Maildir (and Maildir++'s quota file `maildirsize`, which
# maildrop and Postfix write too), what Thunderbird keeps beside its mbox folders (`Junk.msf`
# beside `Junk`, its filter rules, POP3 state and filter logs), and the property lists of Apple
# Mail's `.mbox` folders (`Info.plist`).
_NOT_MESSAGES = frozenset(
    {
        "cmds",
        "maildirfolder",
        "maildirsize",
        "subscriptions",
        "courierimapuiddb",
        "courierimapkeywords",
        "courierpop3dsizelist",
        "msgFilterRules.dat",
        "popstate.dat",
        "filterlog.html",
        "junklog.html",
    }
)
_NOT_MESSAGE_PREFIXES = ("dovecot", "courierimap")
_NOT_MESSAGE_SUFFIXES = (".msf", ".plist")

BENCHMARK_CORPORA = ("trec06c", "trec06p", "spamassassin", "enron-spam")
_TRAIN_FRACTION_TENTHS = 7  # 70 % train / 30 % test, in integer tenths so no float rounding
_SHUFFLE_SEED = 0


class CorpusWarning(UserWarning):
    """A corpus reader skipped a message it was pointed to (see the subclasses)."""


class MissingMessageWarning(CorpusWarning):
    """An index names a message file that is not on disk (trec06p lacks one ham)."""


class JoinedRowsWarning(CorpusWarning):
    """A CSV text cell holds lines that read as rows: an unbalanced quote joined them to it."""


class DuplicateMessageWarning(CorpusWarning):
    """An index names a message file again (read once, with the label of its first line), or
    a Maildir holds a message's key twice (read once, as :func:`read_maildir` says)."""


class MessageHead(NamedTuple):
    """The first bytes of a message and its whole size in bytes, from a reader that does not
    hold a message whole (:func:`read_mbox`, :func:`mbox_heads`). It is a message input of its
    own (:func:`spamclf.inputs.read_head` returns the two as they are, so the size clue stays
    true), and a pair that :meth:`spamclf.Model.classify_heads` takes.

    >>> MessageHead(b"Subject: hi\\n\\nbo", 17).size
    17
    """

    head: bytes
    size: int


@dataclass(frozen=True, slots=True)
class LabelledMessage:
    """One message as it arrived, with its gold label and where it came from.

    ``source`` is a path, or ``path#key`` for messages inside a container (mbox, Maildir, CSV),
    so an error in a benchmark can be traced back to the file that caused it.

    ``content`` is the message's bytes; or, in corpora of one message per file (TREC index,
    folders, Maildir), the path of its file, which is not read until asked for; or, for an mbox
    message longer than a model reads, a :class:`MessageHead`: its first bytes and its size.
    Training and scoring take each of them, and read a file only as far as a model reads
    (``Limits.max_message_bytes``), so that ``spamclf train`` never holds a message whole in
    memory, however large it is.
    """

    content: bytes | Path | MessageHead
    label: str
    source: str

    @property
    def raw(self) -> bytes:
        """The message as stored: the whole of it (its file is read again at each use; a
        compressed file's bytes stay compressed, and classifying or training reads them
        through), but for a :class:`MessageHead`, whose first bytes are all that was kept
        (all that a model reads of it)."""
        if isinstance(self.content, MessageHead):
            return self.content.head
        return self.content if isinstance(self.content, bytes) else _read_bytes(self.content)

    def __post_init__(self) -> None:
        # Checked here once so every consumer can rely on exactly two label values.
        if self.label not in LABELS:
            raise CorpusError(f"label must be 'spam' or 'ham', not {self.label!r} ({self.source})")


def normalize_label(value: object) -> str:
    """Map the label spellings found in public corpora to ``"spam"`` or ``"ham"``.

    Accepted: ``"spam"``/``"ham"`` in any case (surrounding blanks ignored), the integers and
    booleans 1/0 and True/False, and the strings ``"1"``/``"0"``. Anything else raises
    :class:`~spamclf.errors.CorpusError`: guessing (``"2"``, ``"yes"``, ``0.7``) would silently
    train on wrong labels, which is worse than stopping.
    """
    # bool is an Integral, and numpy integers register as Integral too, so one branch serves all
    # but numpy's bool, which does not (a mask such as ``df.label == "spam"`` is made of them).
    if isinstance(value, numbers.Integral | np.bool_) and int(value) in (0, 1):
        return SPAM if int(value) == 1 else HAM
    if isinstance(value, str):
        text = value.strip().lower()
        if text in (SPAM, "1"):
            return SPAM
        if text in (HAM, "0"):
            return HAM
    raise CorpusError(
        f"unrecognised label {value!r}: "
        "expected 'spam'/'ham' (any case), 1/0, True/False or '1'/'0'"
    )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read message {path}: {exc}") from exc


# The errors for which Path.is_file() says False, as for a path that is not there; any other
# (no permission to search a folder, a name too long) would escape it as an OSError.
_NOT_THERE = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})


def _mode(path: Path) -> int | None:
    """The ``st_mode`` of ``path``, following links; None where it is not there, as for
    ``Path.is_file()``; :class:`CorpusError` where the file system cannot tell, rather than a
    traceback."""
    try:
        return os.stat(path).st_mode
    except ValueError:  # a NUL in the name: no such file
        return None
    except OSError as exc:
        if exc.errno in _NOT_THERE:
            return None
        raise CorpusError(f"cannot read {path}: {exc.strerror}") from exc


def _is_kind(path: Path, kind: Callable[[int], bool]) -> bool:
    """Whether ``path`` is there and of ``kind`` (``stat.S_ISREG``, ``stat.S_ISDIR``),
    following links (see :func:`_mode`)."""
    mode = _mode(path)
    return mode is not None and kind(mode)


def _special_kind(mode: int) -> str | None:
    """What a file of ``mode`` is when it is neither a regular file nor a folder: a named pipe,
    a socket or a device, which hold no message to read (a named pipe without a writer makes
    its reader wait forever, a device may never end)."""
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return None


def _is_file(path: Path) -> bool:
    return _is_kind(path, stat.S_ISREG)


def _is_dir(path: Path) -> bool:
    return _is_kind(path, stat.S_ISDIR)


def _is_listed_file(path: Path) -> bool:
    """Whether ``path``, which a folder listing gave, is a file. One that cannot be looked at
    (in a folder that can be listed but not searched, as ``chmod -R 644`` leaves it) counts as
    one, so that reading it fails and says why, while the files around it are read. A named
    pipe, a socket or a device is left out with a :class:`CorpusWarning`: read, a named pipe
    with no writer stopped the run for good, and left out without a word, it was a message
    lost from sight."""
    try:
        mode = _mode(path)
    except CorpusError:
        return True
    if mode is None:
        return False
    special = _special_kind(mode)
    if special is not None:
        warnings.warn(
            f"left out {path}: {special}, not a message file", CorpusWarning, stacklevel=2
        )
    return stat.S_ISREG(mode)


# --- TREC ------------------------------------------------------------------------------------


def _parse_index_line(line: str, index_path: Path, line_number: int) -> tuple[str, str] | None:
    """Return ``(label, relative path)`` for one index line, or None for a blank line."""
    fields = line.split()
    if not fields:
        return None
    if len(fields) != 2:
        raise CorpusError(
            f"{index_path}:{line_number}: expected 'LABEL PATH', got {line.strip()!r}"
        )
    try:
        label = normalize_label(fields[0])
    except CorpusError as exc:
        raise CorpusError(f"{index_path}:{line_number}: {exc}") from exc
    return label, fields[1]


def _trec_entries(index_path: Path) -> Iterator[tuple[str, Path]]:
    """Yield ``(label, message path)`` for each index line, paths resolved against its folder."""
    folder = index_path.parent
    # normpath folds the `../data` of the index so that `source` is a clean path; but where the
    # folder or one above it is a symbolic link, `..` is the link target's parent, which only
    # the file system knows, so the path keeps its `..`.
    try:
        fold = not any(part.is_symlink() for part in (folder, *folder.parents))
        # A file name in another encoding than UTF-8 stays the bytes it was (surrogateescape),
        # which is how Python spells such a name on POSIX: the file opens. utf-8-sig drops the
        # byte-order mark Windows Notepad writes, which made the first label unrecognised.
        with index_path.open(encoding="utf-8-sig", errors="surrogateescape") as lines:
            for line_number, line in enumerate(lines, start=1):
                entry = _parse_index_line(line, index_path, line_number)
                if entry is not None:
                    path = folder / entry[1]
                    yield entry[0], Path(os.path.normpath(path)) if fold else path
    except OSError as exc:
        raise CorpusError(f"cannot read TREC index {index_path}: {exc}") from exc


def read_trec(index_path: str | os.PathLike[str]) -> Iterator[LabelledMessage]:
    """Yield the messages of a TREC spam-track corpus in index (= chronological) order.

    Each index line is ``spam ../data/000/000``: a label and a path relative to the folder that
    holds the index. A listed file that does not exist is skipped with a
    :class:`MissingMessageWarning` rather than an error, because the published trec06p is
    missing one ham and would otherwise be unusable. A file listed again (an index put together
    from others) is skipped with a :class:`DuplicateMessageWarning`, which says so when its
    labels disagree: read twice, it would weigh double, or pull both ways.
    """
    index = Path(index_path)
    first_label: dict[Path, str] = {}
    for label, path in _trec_entries(index):
        if path in first_label:
            first = first_label[path]
            disagree = "" if first == label else f" as {label} (first as {first})"
            warnings.warn(
                f"{index}: message {path} is listed again{disagree}; read once",
                DuplicateMessageWarning,
                stacklevel=2,
            )
            continue
        first_label[path] = label
        if not _is_file(path):
            warnings.warn(
                f"{index}: listed message {path} is missing; skipped",
                MissingMessageWarning,
                stacklevel=2,
            )
            continue
        yield LabelledMessage(path, label, str(path))


# --- folders ---------------------------------------------------------------------------------


def _label_from_parts(
    parts: Sequence[str], spam: frozenset[str], ham: frozenset[str]
) -> str | None:
    """Label of a file from its folders: the deepest folder named like a label wins.

    Deepest, so that ``enron1/ham/...`` is ham even under a root that happens to be named spam.
    """
    for name in reversed(parts):
        if name.lower() in spam:
            return SPAM
        if name.lower() in ham:
            return HAM
    return None


def _is_message_file(path: Path) -> bool:
    name = path.name
    return (
        not name.startswith(".")
        and name not in _NOT_MESSAGES
        and not name.startswith(_NOT_MESSAGE_PREFIXES)
        and not name.endswith(_NOT_MESSAGE_SUFFIXES)
        and _is_listed_file(path)
    )


def _walk(
    root: Path, onerror: Callable[[CorpusError], object] | None = None
) -> Iterator[tuple[Path, list[str]]]:
    """Each folder under ``root`` (``root`` first) with its message-file names, in no order.

    Folder symlinks are followed (a label folder linked in from elsewhere), each real folder
    once, so a link loop ends. Hidden folders (``.git``, a Maildir's ``.Junk`` sub-folder,
    which is another mailbox), a Maildir's ``tmp/`` (deliveries still being written) and the
    ``Attachments/`` that Apple Mail keeps beside a ``Messages/`` folder (the parts of its
    ``.emlx`` messages, PDFs and images among them) are not read. A folder that cannot be
    listed stops the reading: skipping it would train on part of a corpus without a word;
    or, given ``onerror``, is passed to it as a :class:`CorpusError` and left out.
    """
    seen: set[str] = set()

    def refuse(error: OSError) -> None:
        refusal = CorpusError(f"cannot list corpus folder {error.filename}: {error.strerror}")
        if onerror is None:
            raise refusal
        onerror(refusal)

    # A link to a folder that is under ``root`` without one (a label folder linked again under
    # another, a loop) is not followed: which of the two paths came first, and so a file's
    # label, hung on the order the file system lists folders in (ham/ read as spam/old/).
    direct = set()
    for folder, dirnames, _ in os.walk(root):  # errors are reported by the walk below
        direct.add(os.path.realpath(folder))
        _prune(dirnames)
    for folder, dirnames, filenames in os.walk(root, onerror=refuse, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        _prune(dirnames)
        dirnames[:] = [
            name
            for name in dirnames
            if not (
                os.path.islink(os.path.join(folder, name))
                and os.path.realpath(os.path.join(folder, name)) in direct
            )
        ]
        here = Path(folder)
        yield here, [name for name in filenames if _is_message_file(here / name)]


def _prune(dirnames: list[str]) -> None:
    """Leave out of ``dirnames`` (in place, as ``os.walk`` reads it) the folders that hold no
    messages of this corpus (see :func:`_walk`), and sort the rest."""
    skipped = {"tmp"} if {"cur", "new"} <= set(dirnames) else set()
    if "Messages" in dirnames:
        skipped.add("Attachments")
    dirnames[:] = sorted(
        name for name in dirnames if not name.startswith(".") and name not in skipped
    )


def _labelled_files(
    root: Path, spam: frozenset[str], ham: frozenset[str]
) -> list[tuple[Path, str]]:
    """All message files under ``root`` with their labels, sorted by path.

    Sorting ``Path`` objects orders by path components, which does not depend on the order the
    file system lists a folder in. Hidden files and folders (``.extracted`` markers, ``.git``) and
    files named ``cmds`` are not messages; files outside any labelled folder (``Summary.txt``,
    READMEs) have no label and are left out.
    """
    found: list[tuple[Path, str]] = []
    walked = list(_walk(root))  # the root first
    # The root's own name counts, so `read_folders("corpus/spam")` labels its files spam, and
    # so does `read_folders(".")` inside it (its absolute path names the folder); but not where
    # the folders under it are named for labels: `~/spam` holding enron1/ham, enron1/spam and
    # a README is a folder of corpora, and its name would label their READMEs, index files and
    # whole TREC trees (ham among them) spam.
    has_label_folders = any(_label_from_parts((here.name,), spam, ham) for here, _ in walked[1:])
    root_parts = () if has_label_folders else (Path(os.path.abspath(root)).name,)
    for here, names in walked:
        label = _label_from_parts((*root_parts, *here.relative_to(root).parts), spam, ham)
        if label is not None:
            found += [(here / name, label) for name in names]
    found.sort()
    return found


def _folder_sets(spam: Iterable[str], ham: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    spam_set = frozenset(name.lower() for name in spam)
    ham_set = frozenset(name.lower() for name in ham)
    if spam_set & ham_set:
        raise CorpusError(f"folder names used for both spam and ham: {sorted(spam_set & ham_set)}")
    return spam_set, ham_set


def read_folders(
    root: str | os.PathLike[str],
    spam: Iterable[str] = DEFAULT_SPAM_FOLDERS,
    ham: Iterable[str] = DEFAULT_HAM_FOLDERS,
) -> Iterator[LabelledMessage]:
    """Yield one-message-per-file corpora labelled by the name of the folder holding them.

    Walks ``root`` recursively, so both SpamAssassin (``spam_2/0001.abc``) and Enron-Spam
    (``enron1/ham/0001.txt``) work unchanged. Files come in sorted path order; hidden files,
    ``cmds`` files and files outside a folder named in ``spam`` or ``ham`` are skipped.
    """
    top = Path(root)
    if not _is_dir(top):
        raise CorpusError(f"corpus folder {top} does not exist or is not a directory")
    spam_set, ham_set = _folder_sets(spam, ham)
    for path, label in _labelled_files(top, spam_set, ham_set):
        yield LabelledMessage(path, label, str(path))


def read_labelled_folder(root: str | os.PathLike[str], label: object) -> Iterator[LabelledMessage]:
    """Yield every message file under ``root``, all with ``label``, in sorted path order: a
    folder of ``.eml`` files, or a Maildir that lacks ``new/`` (archives drop empty folders).
    Hidden files, Maildir bookkeeping and a Maildir's ``tmp/`` are skipped, as in
    :func:`read_folders`.
    """
    norm = normalize_label(label)
    for path in message_files(root):
        yield LabelledMessage(path, norm, str(path))


def message_files(
    root: str | os.PathLike[str], *, onerror: Callable[[CorpusError], object] | None = None
) -> list[Path]:
    """Every message file under ``root``, in sorted path order; hidden files, Maildir
    bookkeeping and a Maildir's ``tmp/`` are not messages.

    A folder under ``root`` that cannot be listed raises :class:`CorpusError` naming it, so
    that no corpus is read in part without a word; given ``onerror``, it is called instead with
    that error, once for each such folder, and the files of the others are listed (so that
    ``spamclf classify DIR`` can give every readable message its line and still report the
    rest).
    """
    top = Path(root)
    if not _is_dir(top):
        raise CorpusError(f"corpus folder {top} does not exist or is not a directory")
    return sorted(here / name for here, names in _walk(top, onerror) for name in names)


# --- mbox and Maildir ------------------------------------------------------------------------


def read_mbox(
    path: str | os.PathLike[str],
    label: object,
    *,
    max_bytes: int = Limits().max_message_bytes,
) -> Iterator[LabelledMessage]:
    """Yield every message of an mbox file, all with ``label``, in file order.

    A message of at most ``max_bytes`` (by default all that a model reads) comes as its
    bytes; a longer one as a :class:`MessageHead` of its first ``max_bytes`` and its size, so
    that no message is held whole (a mailbox may hold one of hundreds of megabytes: held
    whole, one of 200 MB took 950 MB to train on).

    The bytes are those :meth:`mailbox.mbox.get_bytes` returns (the message without the
    ``From `` separator line that mbox adds and no real message carries, nor the blank line
    before the next one), but for where a message ends: the standard library ends it at every
    line that starts with ``From ``, and mbox writers that do not escape such lines in bodies
    (mboxo) leave some (``From the desk of ...``), which cut a message in two, the second half a
    "message" of body text. Here a ``From `` line separates only where a header line follows.

    A message that Thunderbird deleted, or moved to another folder, stays in its mbox file,
    flagged expunged in its ``X-Mozilla-Status`` header, until the folder is compacted: it is
    left out, as Thunderbird shows it, with one :class:`CorpusWarning` that counts them. Read,
    a spam moved from the Inbox to Junk was trained on as ham and as spam. Keys (``#N``) stay
    the messages' places in the file.
    """
    norm = normalize_label(label)
    source = os.fspath(path)
    expunged = 0
    for key, message in enumerate(mbox_heads(source, max_bytes)):
        if _expunged(message.head):
            expunged += 1
            continue
        whole = message.size == len(message.head)
        yield LabelledMessage(message.head if whole else message, norm, f"{source}#{key}")
    if expunged:
        warnings.warn(
            f"{source}: left out {expunged} message(s) that Thunderbird deleted or moved "
            "elsewhere (X-Mozilla-Status); they stay in the file until the folder is compacted",
            CorpusWarning,
            stacklevel=2,
        )


# Thunderbird's flags of a message in its mbox file, four hex digits; 0x0008 is "expunged".
_MOZILLA_STATUS = re.compile(rb"^X-Mozilla-Status:[ \t]*([0-9A-Fa-f]{1,8})[ \t]*\r?$", re.M | re.I)
_MOZILLA_EXPUNGED = 0x0008
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def _expunged(message: bytes) -> bool:
    """Whether Thunderbird flags ``message`` (its first bytes) as deleted from its folder."""
    header = _HEADER_END.split(message, maxsplit=1)[0]
    status = _MOZILLA_STATUS.search(header)
    return status is not None and bool(int(status.group(1), 16) & _MOZILLA_EXPUNGED)


def mbox_messages(path: str | os.PathLike[str]) -> Iterator[bytes]:
    """The messages of an mbox file (also compressed with gzip, bzip2 or xz), in file order,
    as :func:`read_mbox` gives them; :class:`CorpusError` if it cannot be read.

    To classify the messages of a mail client's mbox folder (Thunderbird keeps each folder as
    one such file): ``spamclf.classify_many(mbox_messages("Junk"))``; for a mailbox that may
    hold a message of gigabytes, :func:`mbox_heads`, which never holds one whole.
    """
    return (message for message, _ in _mbox_parts(path, None))


def mbox_heads(path: str | os.PathLike[str], max_bytes: int) -> Iterator[MessageHead]:
    """The first ``max_bytes`` of each message of an mbox file, with the message's size: what
    :meth:`spamclf.Model.classify_heads` takes. Memory stays bounded whatever the messages'
    sizes (a line is read at most a megabyte at a time)."""
    return _mbox_parts(path, max_bytes)


def _mbox_parts(path: str | os.PathLike[str], keep: int | None) -> Iterator[MessageHead]:
    source = os.fspath(path)
    if not _is_file(Path(source)):
        raise CorpusError(f"mbox {source} does not exist or is not a file")
    try:
        yield from _mbox_messages(source, keep)
    except (*DECOMPRESSION_ERRORS, InputError) as exc:
        raise CorpusError(f"cannot read mbox {source}: {exc}") from exc


# A header field's first line: a field name and a colon.
_HEADER_LINE = re.compile(FIELD_NAME_CHAR + rb"+:")
# An mbox file's "From " line as mail stores write it: a sender, then a date that names a month
# and a time of day, and a four-digit year. That covers asctime ("Mon Jan  1 00:00:00 2024"),
# with a zone before or after the year ("... 00:00:00 PST 2024", "... 2024 -0700", Solaris and
# UW c-client), UUCP's trailing "remote from host", and an RFC 2822 date ("Mon, 1 Jan 2024
# 00:00:00 -0700"), with any run of CRs before the line feed (CR CR LF, written by copying a CRLF
# file in text mode). Stricter than what separates messages in _mbox_messages, to tell a file of
# several messages from one: "From the desk of the CEO" names no month and time. Every part is
# bounded (998 bytes, RFC 5322's line limit) so that a match spans at most _SCAN_OVERLAP bytes.
_FROM_LINE = (
    rb"From [^\s]{0,998}[ \t]{1,99}"
    rb"(?=[^\r\n]{0,998}?\b\d{4}\b)"
    rb"[^\r\n]{0,998}?\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b"
    rb"[^\r\n]{0,998}?\b\d{1,2}:\d\d\b[^\r\n]{0,998}\r{0,9}\n"
)
_MBOX_FROM_LINE = re.compile(_FROM_LINE)
# A second message: a "From " line with a header line after it, or with a blank line after it
# (a message with no header, as _starts_bare tells).
_MBOX_SEPARATOR = re.compile(rb"\n" + _FROM_LINE + rb"(?:" + FIELD_NAME_CHAR + rb"{1,998}:|\r?\n)")
_SCAN_OVERLAP = 8 << 10
# How far into a file that opens with a "From " line file_holds_several_messages looks for a
# second one, so that a first message with an attachment of tens of megabytes is still seen past:
# reading and searching a 78 MB plain file of text took 0.03 s (from the page cache; 3 MB peak).
# Decompressing is slower (the same file: gzip 0.31 s, xz 0.90 s, bzip2 1.78 s), so a
# compressed file is searched as far as stored.MAX_COUNTED_BYTES, about half a second at most.
MBOX_SCAN_BYTES = 64 << 20
_SCAN_BLOCK = 1 << 20
# An mbox is read in lines of at most this many bytes: a file of gigabytes with no line break
# is read a piece at a time (a "From " line longer than this is no separator).
_MAX_LINE = 1 << 20


def holds_several_messages(head: bytes) -> bool:
    """Whether ``head`` opens an mbox file and a second message starts in it: an mbox
    ``From `` line (with a date, as mail stores write it) first, and another after a line
    break, followed by a header line. A message saved alone in mbox form has the first only;
    a body line that merely starts with "From" has no date.

    >>> holds_several_messages(b"From a@b Mon Jan  1 00:00:00 2024\\nSubject: x\\n\\nhi\\n")
    False
    """
    return bool(_MBOX_FROM_LINE.match(head) and _MBOX_SEPARATOR.search(head))


def file_holds_several_messages(path: str | os.PathLike[str]) -> bool:
    """:func:`holds_several_messages` of the file ``path`` (also compressed, as
    :mod:`spamclf.stored` reads it), looked for in its first :data:`MBOX_SCAN_BYTES` (of a
    compressed file, :data:`~spamclf.stored.MAX_COUNTED_BYTES`), however large its first
    message: a block at a time, so memory stays bounded. A file whose second message starts
    past that bound counts as one message. Raises what reading it raises (``OSError``, a
    decompressor's error, :class:`InputError`).
    """
    with open(path, "rb") as file, open_stored(file) as handle:
        limit = MBOX_SCAN_BYTES if handle is file else MAX_COUNTED_BYTES
        return _stream_holds_several_messages(handle.read(_SCAN_BLOCK), handle.read, limit)


def drain_holds_several_messages(
    head: bytes, read: Callable[[int], bytes], limit: int | None = None
) -> tuple[bool, int]:
    """Read a stream that cannot be read again (standard input, a pipe), whose first bytes were
    ``head``, on to its end or to ``limit`` bytes in all, keeping none of it: whether it holds
    an mbox of several messages (searched as it is drained, in its first
    :data:`MBOX_SCAN_BYTES`) and how many bytes came after ``head``. ``read`` is the stream's
    ``read``."""
    rest = 0

    def counted(size: int) -> bytes:
        nonlocal rest
        if limit is not None:
            size = min(size, limit - len(head) - rest)
            if size <= 0:  # read(-1) reads all, which a device (/dev/zero) never ends
                return b""
        block = read(size)
        rest += len(block)
        return block

    several = _stream_holds_several_messages(head, counted)
    while counted(1 << 20):
        pass
    return several, rest


def _stream_holds_several_messages(
    head: bytes, read: Callable[[int], bytes], limit: int = MBOX_SCAN_BYTES
) -> bool:
    """:func:`holds_several_messages` of ``head`` and what ``read(n)`` gives after it, a block
    at a time (so memory stays bounded), looked for in the first ``limit`` bytes."""
    if not _MBOX_FROM_LINE.match(head):
        return False
    data, scanned = head, len(head)
    while True:
        if _MBOX_SEPARATOR.search(data):
            return True
        if scanned >= limit or not (block := read(_SCAN_BLOCK)):
            return False
        # The last bytes again, so that a separator that spans two blocks is found.
        data = data[-_SCAN_OVERLAP:] + block
        scanned += len(block)


def _mbox_messages(path: str, keep: int | None) -> Iterator[MessageHead]:
    """The messages of an mbox file, read a line at a time (a Junk mbox may be gigabytes): of
    each, its first ``keep`` bytes (all of it when None) and its size.

    What comes before the first ``From `` line is no message, as for :mod:`mailbox`.
    """
    message = _MboxMessage(keep)
    separator: bytes | None = None  # a "From " line whose role the line after it decides
    started = False
    at_line_start = True
    with open(path, "rb") as file, open_stored(file) as handle:
        while line := handle.readline(_MAX_LINE):
            if separator is not None:
                if not started or _HEADER_LINE.match(line) or _starts_bare(separator, line):
                    if started:
                        yield message.done()
                    message, started = _MboxMessage(keep), True
                else:  # a body line that starts with "From "
                    message.add(separator)
                separator = None
            if at_line_start and line.startswith(b"From ") and line.endswith(b"\n"):
                separator = line
            else:
                message.add(line)
            at_line_start = line.endswith(b"\n")
    if separator is not None:  # a "From " line last: an empty message, as mailbox reads it
        if started:
            yield message.done()
        message, started = _MboxMessage(keep), True
    if started:
        yield message.done()


def _starts_bare(separator: bytes, line: bytes) -> bool:
    """Whether the ``From `` line ``separator``, followed by ``line``, starts a message with
    no header (mailbox writes one for an empty message): a blank line follows a ``From `` line
    as mail stores write it (with a date). Read as a body line, it joined the message to the
    one before it."""
    return line in (b"\n", b"\r\n") and bool(_MBOX_FROM_LINE.fullmatch(separator))


class _MboxMessage:
    """One message of an mbox as it is read: its first ``keep`` bytes (all when None), and its
    size, both without the blank line mbox writes after each message."""

    def __init__(self, keep: int | None) -> None:
        self.keep = keep
        self.lines: list[bytes] = []
        self.kept = 0
        self.size = 0
        self.last_line = b""
        self.last_kept = False

    def add(self, line: bytes) -> None:
        self.size += len(line)
        self.last_line = line
        self.last_kept = self.keep is None or self.kept < self.keep
        if self.last_kept:
            self.lines.append(line)
            self.kept += len(line)

    def done(self) -> MessageHead:
        lines, size = self.lines, self.size
        if self.last_line == b"\n":
            size -= 1
            if self.last_kept:
                lines = lines[:-1]
        data = b"".join(lines)
        return MessageHead(data if self.keep is None else data[: self.keep], size)


def read_maildir(path: str | os.PathLike[str], label: object) -> Iterator[LabelledMessage]:
    """Yield every message in a Maildir's ``new`` and ``cur``, all with ``label``, by key.

    Each Maildir message is a file, so, as in folder corpora, ``content`` is its path, read
    only as far as a model reads. The files are listed here rather than through
    :class:`mailbox.Maildir`, which gives no public path to a message's file, only its whole
    bytes; the key is the file name up to the ``:`` that starts its flags, as in
    :mod:`mailbox`. Keys are sorted (a directory lists in the order the file system chooses);
    delivery keys start with the delivery time, which makes the order roughly chronological.
    Hidden files are not messages.

    A key is one message: a file whose key another file has too (a message that a mail
    client moved from ``new/`` to ``cur/``, or flagged, while a copy of the Maildir was being
    made) is read once, as :class:`mailbox.Maildir` keys it, with a
    :class:`DuplicateMessageWarning`: as its ``cur/`` file, the later state of a message
    (messages move from ``new/`` to ``cur/``, never back). Read twice, it was counted and
    trained on twice.
    """
    norm = normalize_label(label)
    source = os.fspath(path)
    folders = [Path(source, sub) for sub in ("new", "cur")]
    if not all(_is_dir(folder) for folder in folders):
        raise CorpusError(f"Maildir {source} does not exist or lacks new/ and cur/")
    found: dict[str, Path] = {}
    for folder in folders:  # new/ first, so that cur/ has the last word
        try:
            names = sorted(os.listdir(folder))
        except OSError as exc:
            raise CorpusError(f"cannot list Maildir folder {folder}: {exc}") from exc
        for name in names:
            if not name.startswith(".") and _is_listed_file(folder / name):
                key = name.split(":")[0]
                if key in found:
                    warnings.warn(
                        f"{source}: message {key} is there twice ({found[key]} and "
                        f"{folder / name}); read once, as {folder / name}",
                        DuplicateMessageWarning,
                        stacklevel=2,
                    )
                found[key] = folder / name
    for key, file in sorted(found.items()):
        yield LabelledMessage(file, norm, f"{source}#{key}")


# --- CSV -------------------------------------------------------------------------------------


def _allow_long_fields() -> None:
    """Raise the csv module's per-field limit (128 KiB) so long message bodies can be read.

    The limit is global to the csv module; it is only ever raised, never lowered, so no other
    reader can be broken by it.
    """
    csv.field_size_limit(max(csv.field_size_limit(), min(sys.maxsize, 2**31 - 1)))


def _label_matcher(spam_values: Iterable[object], ham_values: Iterable[object]) -> dict[str, str]:
    """Map each accepted cell text (stripped, lower-cased) to its label."""
    table = {str(v).strip().lower(): SPAM for v in spam_values}
    for value in ham_values:
        key = str(value).strip().lower()
        if table.get(key) == SPAM:
            raise CorpusError(f"CSV label value {value!r} is listed as both spam and ham")
        table[key] = HAM
    return table


def read_csv(
    path: str | os.PathLike[str],
    text_column: str = "text",
    label_column: str = "label",
    spam_values: Iterable[object] = ("spam", "1"),
    ham_values: Iterable[object] = ("ham", "0"),
) -> Iterator[LabelledMessage]:
    """Yield the rows of a CSV of text and label as header-less plain-text messages.

    The text is encoded as UTF-8 to become ``raw``; bytes of the file that are not UTF-8 (a
    CSV that Excel saved in a Windows code page) stay as they were, as a message's would.
    Label cells are compared case-insensitively after stripping blanks; rows whose label is in
    neither ``spam_values`` nor ``ham_values`` are skipped (datasets often carry extra classes
    such as "smishing"), but a file in which no row matches raises
    :class:`~spamclf.errors.CorpusError`, as that means wrong arguments. Quoted fields may
    contain newlines. ``source`` is ``path#N`` for the N-th data row (from 1).
    Column names match case-blind (``Text``, ``LABEL``) where none matches exactly.

    A quote that never closes where it should makes the csv module read on to the next quote,
    joining the rows between into one text cell (with the last row's label, or, at the end of
    the file, none, so that they are skipped). A cell holding lines that read as labelled rows
    is reported with a :class:`JoinedRowsWarning`; the file is read as the csv module reads it.
    """
    source = os.fspath(path)
    labels = _label_matcher(spam_values, ham_values)
    _allow_long_fields()
    matched = rows = 0
    try:
        # newline="" lets csv see the newlines inside quoted fields; utf-8-sig drops an Excel BOM.
        # A byte that is not UTF-8 (Excel saves "CSV" in the Windows code page: cp1252 and
        # the like) stays the byte it was, for the charset detection to read as it reads a
        # message's: decoded strictly, the file stopped the run.
        with open(source, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
            reader = csv.DictReader(handle)
            names = reader.fieldnames or []
            text_column = _column(names, text_column, source)
            label_column = _column(names, label_column, source)
            width = len(names)
            position = names.index(label_column)
            for rows, row in enumerate(reader, start=1):
                text = row[text_column] or ""
                if "\n" in text and (joined := _rows_inside(text, width, position, labels)):
                    warnings.warn(
                        f"{source}#{rows}: its text holds {joined} line(s) that read as rows of "
                        "their own, with a label: an unbalanced quote joins the rows after it",
                        JoinedRowsWarning,
                        stacklevel=2,
                    )
                label = labels.get((row[label_column] or "").strip().lower())
                if label is None:
                    continue
                matched += 1
                yield LabelledMessage(
                    text.encode("utf-8", "surrogateescape"), label, f"{source}#{rows}"
                )
    except (OSError, csv.Error) as exc:
        raise CorpusError(f"cannot read CSV {source}: {exc}") from exc
    if rows and not matched:
        raise CorpusError(f"{source}: none of {rows} rows has a label in {sorted(labels)}")


def _column(names: Sequence[str], wanted: str, source: str) -> str:
    """The header name in ``names`` that stands for the column ``wanted``: itself, or else the
    one that differs from it only in case and surrounding blanks (``Text,Label`` as pandas
    writes a frame's columns, ``label, text`` as typed), which stopped the run."""
    if wanted in names:
        return wanted
    alike = [name for name in names if name.strip().lower() == wanted.strip().lower()]
    if len(alike) != 1:
        raise CorpusError(f"{source}: no column {wanted!r}; columns are {list(names)}")
    return alike[0]


def _rows_inside(text: str, width: int, position: int, labels: dict[str, str]) -> int:
    """How many lines of a multi-line text cell read as CSV rows of their own: ``width`` cells
    (as many as the header names), a known label at ``position``. A quoted message body may
    hold line breaks; it rarely holds lines like ``second message,ham``."""
    return sum(
        len(cells) == width and cells[position].strip().lower() in labels
        for cells in csv.reader(text.splitlines())
    )


# --- dispatch --------------------------------------------------------------------------------


def _split_spec(spec: str) -> tuple[str | None, str]:
    """Split an optional ``spam:``/``ham:`` prefix off a corpus spec."""
    head, sep, tail = spec.partition(":")
    if sep and head.strip().lower() in LABELS:
        return head.strip().lower(), tail
    return None, spec


def _starts_like_mbox(path: Path) -> bool:
    """An mbox: ``From `` first, or nothing at all (an empty Junk mailbox is still one); also
    compressed with gzip, bzip2 or xz, as Dovecot reads one (:mod:`spamclf.stored`)."""
    try:
        with path.open("rb") as handle:
            start = open_stored(handle).read(5)
    except (*DECOMPRESSION_ERRORS, InputError) as exc:
        raise CorpusError(f"cannot read {path}: {exc}") from exc
    return start in (b"From ", b"")


def _corpus_kind(path: Path) -> str:
    """Name the format of ``path``: trec, csv, mbox, maildir or folders."""
    if _is_file(path):
        if path.name == "index":
            return "trec"
        if path.suffix.lower() == ".csv":
            return "csv"
        if _starts_like_mbox(path):
            return "mbox"
        raise CorpusError(f"{path}: not a TREC index, .csv or mbox file")
    if _is_dir(path):
        if _is_dir(path / "cur") and _is_dir(path / "new"):
            return "maildir"
        if _apple_mail_export(path):
            return "mbox"
        return "folders"
    mode = _mode(path)
    special = None if mode is None else _special_kind(mode)
    if special is not None:  # spam:<(zcat Junk.gz) said the pipe did not exist
        raise CorpusError(
            f"corpus {path} is {special}: a corpus is read twice (its labels, then its "
            "messages), so name a file or folder"
        )
    raise CorpusError(f"corpus {path} does not exist")


def _apple_mail_export(path: Path) -> bool:
    """Whether folder ``path`` is what Apple Mail's "Export Mailbox" writes: ``Junk.mbox/``
    holding the mailbox as one mbox file, ``mbox`` (beside ``Info.plist`` or
    ``table_of_contents``). Read as a folder, its one file was one mbox, left out."""
    inner = path / "mbox"
    return path.suffix.lower() == ".mbox" and _is_file(inner) and _starts_like_mbox(inner)


def read_corpus(spec: str) -> Iterator[LabelledMessage]:
    """Read any supported corpus from one string, as given on a command line.

    Spec format, ``[LABEL:]PATH``:

    * ``.../full/index`` -- a file named ``index``: a TREC corpus (:func:`read_trec`).
    * ``data.csv`` -- a CSV with ``text`` and ``label`` columns (:func:`read_csv`).
    * ``spam:/path/to/mbox`` -- a file starting with ``From ``: an mbox (:func:`read_mbox`);
      also the ``Junk.mbox/`` folder Apple Mail exports, which holds one, named ``mbox``.
    * ``ham:/path/to/Maildir`` -- a folder holding ``cur`` and ``new``: a Maildir
      (:func:`read_maildir`).
    * ``/path/to/folders`` -- any other folder: label-named folders (:func:`read_folders`).
    * ``spam:/path/to/folder`` -- a folder with no label-named folder in it: all its files,
      with that label (:func:`read_labelled_folder`).

    mbox and Maildir hold no labels, so they need the ``spam:`` or ``ham:`` prefix; the other
    formats carry their own labels and refuse one, rather than silently ignore it.
    """
    label, location = _split_spec(spec)
    path = Path(location)
    kind = _corpus_kind(path)
    if kind in ("mbox", "maildir"):
        if label is None:
            raise CorpusError(
                f"{kind} {path} holds no labels: write the spec as spam:{path} or ham:{path}"
            )
        if kind == "maildir":
            return read_maildir(path, label)
        return read_mbox(path / "mbox" if _is_dir(path) else path, label)  # an Apple Mail export
    if kind == "folders" and label is not None and not _has_label_folders(path):
        return read_labelled_folder(path, label)  # `spam:DIR`: every message in DIR is spam
    if label is not None:
        raise CorpusError(
            f"{path} is a {kind} corpus with its own labels; drop the {label}: prefix"
        )
    if kind == "trec":
        return read_trec(path)
    if kind == "csv":
        return read_csv(path)
    return read_folders(path)


def _has_label_folders(path: Path) -> bool:
    """Whether a folder corpus names its labels itself: a sub-folder called spam, ham, ..."""
    spam, ham = _folder_sets(DEFAULT_SPAM_FOLDERS, DEFAULT_HAM_FOLDERS)
    return any(_label_from_parts((here.name,), spam, ham) for here, _ in _walk(path))


# --- benchmark protocol ----------------------------------------------------------------------


def _cut(messages: list[LabelledMessage]) -> tuple[list[LabelledMessage], list[LabelledMessage]]:
    """First 70 % train, rest test, rounding the training share down."""
    n_train = len(messages) * _TRAIN_FRACTION_TENTHS // 10
    return messages[:n_train], messages[n_train:]


def _loaded(messages: Iterable[LabelledMessage]) -> list[LabelledMessage]:
    """``messages`` with their bytes in memory."""
    return [LabelledMessage(m.raw, m.label, m.source) for m in messages]


def _shuffled(messages: list[LabelledMessage]) -> list[LabelledMessage]:
    """Shuffle a path-sorted list with a fixed seed: a reproducible random split.

    Used for corpora with no meaningful time order, where a folder-ordered cut would put whole
    sources (one Enron user, one SpamAssassin batch) entirely in train or in test.
    """
    shuffled = list(messages)
    random.Random(_SHUFFLE_SEED).shuffle(shuffled)
    return shuffled


def split_benchmark(
    corpus_name: str, root: str | os.PathLike[str]
) -> tuple[list[LabelledMessage], list[LabelledMessage]]:
    """Return ``(train, test)`` for one of the project's benchmark corpora under ``root``.

    * ``trec06c``, ``trec06p`` (``root/NAME/full/index``): the first 70 % of the messages in
      index order train, the last 30 % test. Chronological, as in the TREC track, because a
      filter is always trained on the past; counted over the files that exist.
    * ``spamassassin`` (``root/spamassassin/{easy_ham,easy_ham_2,hard_ham,spam,spam_2}``) and
      ``enron-spam`` (``root/enron-spam/enronN/{ham,spam}``): files sorted by path, shuffled
      with ``random.Random(0)``, first 70 % train.

    Messages are loaded into memory (trec06c, the largest, is about 300 MB), since benchmarks
    iterate over the test set more than once and time what they do with the bytes.
    """
    base = Path(root) / corpus_name
    if corpus_name not in BENCHMARK_CORPORA:
        raise CorpusError(
            f"unknown benchmark corpus {corpus_name!r}; known: {', '.join(BENCHMARK_CORPORA)}"
        )
    if not _is_dir(base):
        raise CorpusError(f"benchmark corpus {corpus_name} not found at {base}")
    if corpus_name.startswith("trec"):
        return _cut(_loaded(read_trec(base / "full" / "index")))
    if corpus_name == "spamassassin":
        folders = read_folders(
            base, spam=("spam", "spam_2"), ham=("easy_ham", "easy_ham_2", "hard_ham")
        )
    else:
        folders = read_folders(base, spam=("spam",), ham=("ham",))
    return _cut(_shuffled(_loaded(folders)))
