"""The ``spamclf`` command: classify, train and evaluate from the shell.

Exit codes (also in the README):

- 0: success;
- 2: bad command line (argparse's convention);
- 3: some input could not be read or a corpus is malformed (every readable message still
  gets its line);
- 4: the model could not be loaded (missing, altered, or from an incompatible version);
- 130: interrupted (Ctrl-C), as a shell reports it; ``train`` then leaves no model file.

``spamclf filter`` follows bogofilter's convention instead, since delivery agents branch on it:
0 spam, 1 ham, 2 unsure, 3 error (the message is still written out unchanged); with
``--exit-zero`` (bogofilter's ``-e``) 0 for every verdict and 3 only for an error. 75
(sysexits' EX_TEMPFAIL, which delivery agents take as "try again later") means the message
could not be read or written whole, so what was written must not be delivered, or the command
line is wrong (also a command name misspelt from ``filter``: its caller reads 2 as unsure).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import math
import os
import re
import shutil
import sys
import tempfile
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, NamedTuple

from spamclf.corpora import (
    CorpusWarning,
    LabelledMessage,
    MessageHead,
    mbox_heads,
    message_files,
    read_corpus,
)
from spamclf.errors import (
    CorpusError,
    InputError,
    ModelError,
    SeveralMessagesError,
    SpamclfError,
)
from spamclf.inputs import MessageInput, read_head, read_stream
from spamclf.model import DEFAULT_C, MAX_WORKERS, SHARED_MODEL_C
from spamclf.scripts import SHARED_MODEL_MIN_EXAMPLES
from spamclf.verdict import Verdict

EXIT_OK = 0
EXIT_INPUT = 3
EXIT_MODEL = 4
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a filter that SIGPIPE stopped

# C0 and C1 controls (newlines, ESC, CSI), line and paragraph separators, and the bidi marks,
# embeddings, overrides and isolates that can make a terminal show text in another order.
_CONTROLS = r"\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
# A file name that is not UTF-8 comes to Python with its odd bytes as lone surrogates
# (U+DC80-U+DCFF), which no UTF-8 output can encode: the first such name ended the run.
_SURROGATES = r"\ud800-\udfff"
_CONTROL = re.compile(f"[{_CONTROLS}]")
_SURROGATE = re.compile(f"[{_SURROGATES}]")
_JSON_UNSAFE = re.compile(f"[{_CONTROLS}{_SURROGATES}]")


def main(argv: Sequence[str] | None = None) -> int:
    if sys.stderr is None:
        # Started without stderr (2>&-): its diagnostics and progress bars go nowhere, rather
        # than crash tqdm or land in stdout, where print(file=None) would put them.
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the process
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:
        # A typo in an MTA's filter command: 2 is "unsure" to `spamclf filter`'s caller,
        # which would then deliver the empty output; 75 makes it keep the mail and try again.
        # So too for a command name misspelt from filter's (`spamclf filtr`): its caller
        # branches on filter's codes as well.
        words = [word for word in (sys.argv[1:] if argv is None else argv) if word[:1] != "-"]
        if exit.code == 2 and words and _closest_command(parser, words[0]) == "filter":
            return FILTER_EXIT_TEMPFAIL
        raise
    with warnings.catch_warnings():
        # A warning (a message an index lists but the disk lacks, or lists twice) reads as one
        # of the command's own lines: once, though `train` reads a corpus twice, and with its
        # file names escaped like every other name it prints, not as Python's file:line and
        # source.
        warnings.simplefilter("default", CorpusWarning)
        warnings.showwarning = _warning_printer()
        try:
            code = int(args.run(args))
            if sys.stdout is not None:  # started without stdout (>&-): Python sets None
                sys.stdout.flush()  # a reader that went away may show only here
            return code
        except ModelError as exc:
            print(f"spamclf: {safe_text(str(exc))}", file=sys.stderr)
            return EXIT_MODEL
        except (CorpusError, InputError, SpamclfError) as exc:
            print(f"spamclf: {safe_text(str(exc))}", file=sys.stderr)
            return EXIT_INPUT
        except KeyboardInterrupt:
            # One line, where the run ended in the middle of its output or progress bar.
            _complain("interrupted")
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            # The reader went (`spamclf classify ... | head`): stop quietly, as a filter that
            # SIGPIPE stops, instead of a traceback; stdout goes nowhere so that Python's own
            # flush at exit cannot fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_BROKEN_PIPE


def _closest_command(parser: argparse.ArgumentParser, word: str) -> str | None:
    """The command ``word`` names, or that it is a misspelling of (difflib's judgement)."""
    commands = next(
        action.choices
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    return next(iter(difflib.get_close_matches(word, list(commands), n=1)), None)


def _warning_printer() -> Callable[..., None]:
    """A ``warnings.showwarning`` that prints each distinct warning once. (The "once" filter
    does not hold where the code it warns through sets filters of its own.)"""
    shown: set[str] = set()

    def show(message: Warning | str, *_: object, **__: object) -> None:
        text = safe_text(str(message))
        if text not in shown:
            shown.add(text)
            print(f"spamclf: warning: {text}", file=sys.stderr)

    return show


def safe_text(text: str) -> str:
    """Escape control characters so that file names and header values cannot forge lines.

    >>> safe_text("evil\\nX-Spam: no")
    'evil\\\\x0aX-Spam: no'
    """
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return _SURROGATE.sub(_byte_escape, text)


def _byte_escape(match: re.Match[str]) -> str:
    """A name's undecodable byte as ``\\xE9``, the byte it was; another surrogate as ``\\u``."""
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def safe_json(record: object) -> str:
    """One line of JSON in which no string can move the cursor, forge a line or reorder text:
    ``json.dumps`` escapes C0 controls, and this the rest of :func:`safe_text`'s set.

    >>> safe_json({"file": "a\u202eb\\x1b"})
    '{"file": "a\\\\u202eb\\\\u001b"}'
    """
    text = json.dumps(record, ensure_ascii=False)
    # Lone surrogates as JSON's own \\u escapes: json.loads gives a name back as Python read
    # it, and os.fsencode then its bytes.
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _parser() -> argparse.ArgumentParser:
    from spamclf import __version__
    from spamclf.persist import FEATURE_SCHEMA

    parser = argparse.ArgumentParser(prog="spamclf", description="Tell spam from ham, and why.")
    # The feature schema says which models this version loads (see spamclf.persist).
    parser.add_argument(
        "--version",
        action="version",
        version=f"spamclf {__version__} (feature schema {FEATURE_SCHEMA})",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    classify = commands.add_parser(
        "classify", help="classify message files, or the message files in a folder (- is stdin)"
    )
    classify.add_argument("files", nargs="+", metavar="FILE")
    classify.add_argument("--model", help="model file (default: the bundled model)")
    classify.add_argument("--json", action="store_true", help="one JSON object per line")
    classify.add_argument("--reasons", type=_count, default=3, metavar="N", help="reasons to show")
    classify.add_argument(
        "--jobs", type=_jobs, default=1, help="processes for scoring (-1: all cores)"
    )
    classify.set_defaults(run=_classify)

    train = commands.add_parser("train", help="train a model on labelled corpora")
    train.add_argument("corpora", nargs="+", metavar="CORPUS", help=_CORPUS_HELP)
    train.add_argument("-o", "--output", required=True, help="model file to write")
    train.add_argument(
        "--C",
        type=_positive,
        default=DEFAULT_C,
        help=f"SVM inverse regularization (default {DEFAULT_C}, for a model of your own mail; "
        f"{SHARED_MODEL_C} for a model of mail from elsewhere, as the bundled one)",
    )
    train.add_argument("--jobs", type=_jobs, default=1, help="processes for parsing (-1: all)")
    train.add_argument(
        "--header-words",
        action="store_true",
        help="also read the words of every header: better for a model of one mailbox, "
        "worse for mail from elsewhere (benchmarks/header_words.md)",
    )
    train.add_argument(
        "--min-script-examples",
        type=_count,
        default=0,
        metavar="N",
        help="label a message spam or ham only if training had N ham and N spam in its "
        f"writing system, else unsure: {SHARED_MODEL_MIN_EXAMPLES} for a model that will judge "
        "other mailboxes' mail, as the bundled model does (default: 0, off)",
    )
    train.set_defaults(run=_train)

    evaluate = commands.add_parser("evaluate", help="measure a model on labelled corpora")
    evaluate.add_argument("corpora", nargs="+", metavar="CORPUS", help=_CORPUS_HELP)
    evaluate.add_argument("--model", help="model file (default: the bundled model)")
    evaluate.add_argument("--jobs", type=_jobs, default=1, help="processes (-1: all)")
    evaluate.add_argument("--json", action="store_true", help="print metrics as JSON")
    evaluate.set_defaults(run=_evaluate)

    _add_filter_command(commands)
    _add_serve_command(commands)
    return parser


_CORPUS_HELP = (
    "a TREC index file, a folder of spam/ham folders, a CSV (text,label), "
    "or spam:PATH / ham:PATH for an mbox or Maildir"
)


def number_argument(convert, accept, wanted: str):  # type: ignore[no-untyped-def]
    """An argparse type: the text ``convert``-ed, refused with "must be ``wanted``" unless
    ``accept``-ed, so that an impossible value is a bad command line (exit 2), not a crash
    (``spamclf serve``'s options use it too)."""

    def parse(text: str):  # type: ignore[no-untyped-def]
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
        return value

    return parse


# --reasons, --min-script-examples; --C (NaN fails the comparison too); --jobs.
_count = number_argument(int, lambda n: n >= 0, "0 or more")
_positive = number_argument(float, lambda x: 0.0 < x < math.inf, "a positive number")
_jobs = number_argument(
    int, lambda n: n != 0 and n <= MAX_WORKERS, f"1 to {MAX_WORKERS}, or -1 for all"
)


def _load(path: str | None):  # type: ignore[no-untyped-def]
    from spamclf.api import default_model
    from spamclf.persist import load_model

    return load_model(path) if path else default_model()


def _classify(args: argparse.Namespace) -> int:
    model = _load(args.model)
    max_bytes = model.settings.limits.max_message_bytes
    names: deque[str] = deque()  # of the files read and not yet printed, in order
    unreadable = False

    def unlistable(error: CorpusError) -> None:  # a sub-folder; the others still get lines
        nonlocal unreadable
        print(f"spamclf: {safe_text(str(error))}", file=sys.stderr)
        unreadable = True

    def heads() -> Iterator[tuple[bytes, int]]:
        nonlocal unreadable
        for name in _each_file(args.files, unlistable):
            messages: Iterable[tuple[str, tuple[bytes, int]]]
            try:
                if name == "-":
                    messages = [(name, _read_stdin(max_bytes))]
                else:
                    messages = [(name, read_head(Path(name), max_bytes))]
            except SeveralMessagesError:  # an mbox file: a line for each of its messages
                if not os.path.isfile(name):  # a pipe, <(zcat Junk.gz): read, it is gone
                    print(
                        f"spamclf: {safe_text(name)} is a pipe that holds an mbox file of several "
                        "messages: name the file instead, and each message gets its line",
                        file=sys.stderr,
                    )
                    unreadable = True
                    continue
                messages = _mbox_heads(name, max_bytes)
            except (CorpusError, InputError, OSError) as exc:  # the others still get lines
                print(f"spamclf: {safe_text(str(exc))}", file=sys.stderr)
                unreadable = True
                continue
            try:
                for label, message in messages:
                    if message[1] == 0:
                        # An empty file holds no message, as an mbox folder emptied
                        # (Thunderbird's Trash) holds none: no line, where the verdict on an
                        # empty message answered for mail that is not there; said, for a
                        # message file emptied by mistake. An mbox's empty message alike.
                        what = "standard input" if label == "-" else safe_text(label)
                        print(f"spamclf: warning: {what} is empty: no message", file=sys.stderr)
                        continue
                    names.append(label)
                    yield message
            except CorpusError as exc:  # an mbox that breaks off: its messages so far count
                print(f"spamclf: {safe_text(str(exc))}", file=sys.stderr)
                unreadable = True

    for verdict in model.classify_heads(heads(), n_jobs=args.jobs):
        _print_verdict(names.popleft(), verdict, args)
    return EXIT_INPUT if unreadable else EXIT_OK


def _mbox_heads(name: str, max_bytes: int) -> Iterator[tuple[str, tuple[bytes, int]]]:
    """Each message of the mbox file ``name``, named ``name#0``, ``name#1``, ... (as corpus
    readers name them), with the bytes a model reads of it and its size."""
    for key, head in enumerate(mbox_heads(name, max_bytes)):
        yield f"{name}#{key}", head


def _each_file(names: Sequence[str], unlistable: Callable[[CorpusError], None]) -> Iterator[str]:
    """The names given, with a folder standing for the message files under it, in sorted
    order: a Maildir of 100,000 messages is one argument, where ``cur/*`` would overflow the
    shell's argument list. A folder that cannot be listed stays its name, whose read fails;
    a sub-folder that cannot be listed goes to ``unlistable`` (one such hid the whole folder)."""
    for name in names:
        try:
            is_folder = name != "-" and os.path.isdir(name)
            files = message_files(name, onerror=unlistable) if is_folder else None
        except CorpusError:
            files = None
        yield from (name,) if files is None else (str(path) for path in files)


def _print_verdict(name: str, verdict: Verdict, args: argparse.Namespace) -> None:
    reasons = verdict.reasons[: args.reasons]
    if args.json:
        record = {"file": name, **verdict.as_dict()}
        record["reasons"] = record["reasons"][: args.reasons]  # type: ignore[index]
        print(safe_json(record))
    else:
        why = ", ".join(f"{safe_text(r.feature)} {r.contribution:+.2f}" for r in reasons)
        if verdict.unfamiliar:  # say why a high or low score is still "unsure"
            why = f"unfamiliar script {verdict.script}; {why}"
        print(f"{safe_text(name)}\t{verdict.label}\t{verdict.score:.4f}\t{why}")


def _standard(which: str) -> BinaryIO:
    """The byte stream of standard input or output; ``OSError`` for a process started without
    it (``<&-``), where Python sets ``sys.stdin`` to None."""
    stream = sys.stdin if which == "input" else sys.stdout
    if stream is None:
        raise OSError(f"no standard {which}")
    return stream.buffer


def _read_stdin(max_bytes: int) -> tuple[bytes, int]:
    """The first ``max_bytes`` of standard input and its full size: the rest is read, so the
    writer never meets a closed pipe, but not kept, so a message of any size costs at most
    what a model reads of it. A compressed message is read through, and an mbox of several
    messages refused, as for a file (:func:`spamclf.inputs.read_stream`)."""
    head, size, several = read_stream(_standard("input"), max_bytes)
    if several:
        raise InputError(
            "standard input holds an mbox file of several messages: name the file instead, "
            "and each message gets its line"
        )
    return head, size


class _Corpora(NamedTuple):
    """What ``train`` reads: the messages (a second pass, lazily), their labels, the index of
    each one's corpus, and how many messages were left out unread (empty ones, also left out,
    are not counted: they were read)."""

    messages: Iterator[MessageInput]
    labels: list[str]
    groups: list[int]
    left_out: int


class _Read(NamedTuple):
    """A message of a corpus as ``train`` and ``evaluate`` read it: the index of its corpus,
    the message, and its first bytes and size, or None where it is left out (said in a
    warning): ``unreadable``, or empty."""

    corpus: int
    item: LabelledMessage
    head: MessageHead | None
    unreadable: bool


def _read_each(specs: Sequence[str], max_bytes: int) -> Iterator[_Read]:
    """Each message of the corpora ``specs``, read as far as a model reads it (``max_bytes``).

    One that cannot be read (a PDF or an mbox file among message files, a file without read
    permission) is left out with a warning, where it stopped the run after every message
    before it had been read and scored, and lost them all. An empty one too: no message, as
    ``classify`` gives it no line (a file emptied or never written, an mbox's empty message).
    Trained on, it taught what an empty message is; scored, it counted in the metrics."""
    for index, item in _corpus_items(specs):
        try:
            head = MessageHead(*read_head(item.content, max_bytes))
        except InputError as exc:
            warnings.warn(CorpusWarning(f"left out {item.source}: {exc}"), stacklevel=2)
            yield _Read(index, item, None, unreadable=True)
            continue
        if head.size == 0:
            warnings.warn(CorpusWarning(f"left out {item.source}: empty, no message"), stacklevel=2)
            yield _Read(index, item, None, unreadable=False)
            continue
        yield _Read(index, item, head, unreadable=False)


def _check_labelled(specs: Sequence[str], groups: Sequence[int]) -> None:
    """Each corpus must give something: one that gives nothing among others was dropped
    without a word (an empty Maildir, a folder whose label folders are named otherwise).
    ``groups`` holds the index of each labelled message's corpus."""
    given = set(groups)
    barren = [spec for index, spec in enumerate(specs) if index not in given]
    if barren:
        raise CorpusError(
            f"no labelled messages in {', '.join(barren)} (a folder corpus needs sub-folders "
            "named spam and ham, or spam_2, easy_ham, junk, ...; label a plain folder, an mbox "
            "or a Maildir as spam:PATH or ham:PATH)"
        )


def _read_corpora(specs: Sequence[str], max_bytes: int) -> _Corpora:
    """The messages of the corpora ``specs`` that a model can read (:func:`_read_each`), their
    labels, and for each message the index of the corpus it came from.

    The labels are read in a first pass, which reads each message as the model will, to leave
    out those it cannot; the messages come from a second pass, one at a time, as training asks
    for them (``train`` takes the labels first). mbox and CSV corpora hold their messages'
    bytes, and keeping those from the first pass would hold a whole mailbox in memory. Reading
    files twice costs little: the second read finds them in the page cache.
    """
    labels: list[str] = []
    groups: list[int] = []
    left_out: set[int] = set()
    unreadable = 0
    for position, read in enumerate(_read_each(specs, max_bytes)):
        if read.head is None:
            left_out.add(position)
            unreadable += read.unreadable
            continue
        labels.append(read.item.label)
        groups.append(read.corpus)
    _check_labelled(specs, groups)
    return _Corpora(_read_again(specs, labels, left_out), labels, groups, unreadable)


def _read_again(
    specs: Sequence[str], labels: Sequence[str], unreadable: set[int]
) -> Iterator[MessageInput]:
    """The messages of ``specs`` in order, less those at the ``unreadable`` positions; a
    corpus that changed since its labels were read (mail delivered to the mbox meanwhile)
    stops the run rather than mislabel a message."""
    position = 0
    for read, (index, item) in enumerate(_corpus_items(specs)):
        if read in unreadable:
            continue
        if position == len(labels) or item.label != labels[position]:
            raise CorpusError(f"{specs[index]} changed while it was being read; run again")
        position += 1
        yield item.content
    if position != len(labels):
        raise CorpusError(f"{', '.join(specs)} changed while being read; run again")


def _left_out(count: int) -> int:
    """The exit code of a run that left ``count`` unreadable messages out, said once more
    after its output."""
    if not count:
        return EXIT_OK
    print(f"spamclf: left out {count} unreadable message(s): see the warnings", file=sys.stderr)
    return EXIT_INPUT


def _corpus_items(specs: Sequence[str]) -> Iterator[tuple[int, LabelledMessage]]:
    """Each labelled message of the corpora ``specs``, with the index of its corpus."""
    for index, spec in enumerate(specs):
        for item in read_corpus(spec):
            yield index, item


def _train(args: argparse.Namespace) -> int:
    from spamclf.api import train
    from spamclf.model import ModelSettings
    from spamclf.persist import card_path, check_can_save

    # Checked before the corpora are read and the model fitted, not after: a typo in -o
    # would otherwise cost the whole run.
    check_can_save(args.output)
    settings = ModelSettings(
        header_words=args.header_words, min_script_examples=args.min_script_examples
    )
    messages, labels, groups, left_out = _read_corpora(
        args.corpora, settings.limits.max_message_bytes
    )
    print(f"training on {len(labels)} messages ({labels.count('spam')} spam)", file=sys.stderr)
    model = train(
        messages,
        labels,
        C=args.C,
        settings=settings,
        n_jobs=args.jobs,
        progress=True,
        description=" + ".join(args.corpora),
        # Each corpus weighs the same, as in the default model: no one source dominates.
        groups=groups if len(args.corpora) > 1 else None,
    )
    model.save(args.output)
    # Both as paths: the card lies beside the model, which may be in another folder.
    card = str(card_path(args.output))
    print(f"wrote {safe_text(args.output)} and {safe_text(card)}", file=sys.stderr)
    return _left_out(left_out)


def _evaluate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from spamclf.metrics import calibration, evaluate

    model = _load(args.model)
    # Labels first, without reading a message file, to say now, not after every message has
    # been scored, that a corpus gives none or that one label is missing.
    listed = [(index, item.label) for index, item in _corpus_items(args.corpora)]
    _check_both_labels(args.corpora, listed)
    # Then each message is read once, as it is scored: the read that leaves it out if it
    # cannot be read also gives what the model reads. Read twice, as train must (it takes the
    # labels first), 6,000 trec06p files took 0.62 s to read, against 0.39 s once.
    read: list[tuple[int, str]] = []
    unreadable = 0

    def heads() -> Iterator[MessageHead]:
        nonlocal unreadable
        for each in _read_each(args.corpora, model.settings.limits.max_message_bytes):
            unreadable += each.unreadable
            if each.head is not None:
                read.append((each.corpus, each.item.label))
                yield each.head

    verdicts = model.classify_heads(heads(), n_jobs=args.jobs)
    verdicts = list(tqdm(verdicts, total=len(listed), unit="msg", mininterval=1.0))
    _check_both_labels(args.corpora, read)  # some left out: a corpus may give none now
    labels = [label for _, label in read]
    scores = [v.score for v in verdicts]
    metrics = evaluate(
        labels,
        scores,
        threshold=model.settings.spam_cutoff,
        labelled=[not v.unfamiliar for v in verdicts],
    )
    calibrated = calibration(labels, scores)
    if args.json:
        print(json.dumps({**metrics.as_dict(), "calibration": calibrated.as_dict()}, indent=2))
    else:
        print(f"messages          {metrics.n} ({metrics.n_spam} spam, {metrics.n_ham} ham)")
        print(f"ROC AUC           {metrics.roc_auc:.6f}")
        print(f"(1-AUC)%          {metrics.one_minus_auc_pct:.4f}")
        print(f"lam%              {metrics.lam_pct:.4f}")
        print(f"false positives   {metrics.fpr:.4%} (ham marked spam at {metrics.threshold})")
        print(f"false negatives   {metrics.fnr:.4%}")
        print(f"recall @0.1% FP   {metrics.recall_at_0_1pct_fpr:.4f}")
        print(f"log loss          {calibrated.log_loss:.4f}")
        print(f"Brier score       {calibrated.brier:.4f}")
        print(f"calibration error {calibrated.ece:.4f} (mean gap of score and share of spam)")
    return _left_out(unreadable)


def _check_both_labels(specs: Sequence[str], messages: Sequence[tuple[int, str]]) -> None:
    """That each corpus of ``specs`` gives a message, and that there are spam and ham among
    ``messages`` (each as its corpus's index and its label), for ``evaluate``."""
    _check_labelled(specs, [index for index, _ in messages])
    labels = [label for _, label in messages]
    if len(set(labels)) < 2:
        raise CorpusError(
            f"need both spam and ham to evaluate; got {labels.count('spam')} spam of {len(labels)}"
        )


# --- filter: one message through, headers added (docs/mta.md) ---------------------------------

FILTER_EXIT = {"spam": 0, "ham": 1, "unsure": 2}
FILTER_EXIT_ERROR = 3
FILTER_EXIT_TEMPFAIL = 75


def _add_filter_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    filter_ = commands.add_parser(
        "filter",
        help="read one message on stdin, write it to stdout with X-Spam-* headers added",
        description="Exit codes (bogofilter's): 0 spam, 1 ham, 2 unsure, 3 error (the message "
        "is written out unchanged); 75 (EX_TEMPFAIL): the message could not be read or written "
        "whole, try again later. Otherwise the message is always written out, unchanged but "
        "for the added header lines.",
    )
    filter_.add_argument("--model", help="model file (default: the bundled model)")
    filter_.add_argument(
        "-e",
        "--exit-zero",
        action="store_true",
        help="exit 0 whatever the verdict (3 still means an error), for delivery agents that "
        "treat a filter's non-zero exit as a failure",
    )
    filter_.set_defaults(run=_filter)


# The part of a message past what a model reads waits here for its turn to be written out:
# in memory up to this size, then in a temporary file, so a message of gigabytes costs what
# its head costs.
FILTER_SPOOL_BYTES = 8 << 20


def _filter(args: argparse.Namespace) -> int:
    from spamclf import __version__
    from spamclf.mta import add_headers, spam_headers, without_added_headers
    from spamclf.parse import Limits

    # Mail must never be lost: whatever goes wrong after the message is read (a missing
    # model, a bug), it still goes out unchanged and the exit code says it was not filtered.
    try:
        model, failure = _load(args.model), None
    except Exception as exc:
        model, failure = None, exc
    limits = model.settings.limits if model else Limits()
    with tempfile.SpooledTemporaryFile(max_size=FILTER_SPOOL_BYTES) as rest:
        try:
            stdin = _standard("input")
            head = stdin.read(limits.max_message_bytes)  # what a model reads
            shutil.copyfileobj(stdin, rest, 1 << 20)
        except OSError as exc:  # also no room left for the spool
            _complain(f"cannot read the message: {exc}")
            return FILTER_EXIT_TEMPFAIL
        try:
            if model is None:
                raise failure or ModelError("no model")
            message = without_added_headers(head)  # filtered before: the new block replaces it
            verdict = model.classify_head(message, len(message) + rest.tell())
            fields = spam_headers(verdict, model.settings.spam_cutoff, __version__)
            output = add_headers(message, fields)
            status = 0 if args.exit_zero else FILTER_EXIT[verdict.label]
        except Exception as exc:
            _complain(f"message not filtered: {exc}")
            output, status = head, FILTER_EXIT_ERROR
        try:
            stdout = _standard("output")
            stdout.write(output)
            rest.seek(0)
            shutil.copyfileobj(rest, stdout, 1 << 20)
            stdout.flush()
        except OSError as exc:
            _complain(f"cannot write the message: {exc}")
            return FILTER_EXIT_TEMPFAIL
    return status


def _complain(text: str) -> None:
    """Say what went wrong on stderr, if it can be written: a full disk or a closed pipe there
    made the filter exit 1 ("ham") or 141 with no message written, where its own exit code
    (3, the message passed on; 75, try again) must decide what the MTA does."""
    with contextlib.suppress(OSError):
        print(f"spamclf: {safe_text(text)}", file=sys.stderr, flush=True)


def _add_serve_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from spamclf.server import add_arguments

    serve = commands.add_parser(
        "serve",
        help="answer spamc, milters and MTAs over the spamd protocol (SPAMC/1.x)",
        description="A SpamAssassin spamd replacement: SIGTERM finishes in-flight requests "
        "and exits, SIGHUP reloads the model without dropping connections.",
    )
    add_arguments(serve)
    serve.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    from spamclf.server import serve_from_args

    return serve_from_args(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
