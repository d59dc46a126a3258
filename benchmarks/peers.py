"""The filters spamclf is compared with, each trained and scored on the very same messages.

Every peer answers the same three questions: ``train(messages)`` on a training split,
``scores(messages)`` for a test split (higher = spammier), and, where it can learn one message
at a time, ``online(messages)``: classify each message, then learn its true label (the TREC
protocol). ``threshold`` is the peer's own default cutoff on its score, so FPR and FNR are
measured at the operating point its users get out of the box.

* bogofilter (Debian package): its default configuration, a word list in a temporary folder.
* SpamAssassin 4 (Debian package): Bayes trained with ``sa-learn``, all the local rules shipped
  with the package, no network tests (``-L``), scored by a temporary ``spamd`` through ``spamc``.
* TF-IDF + multinomial naive Bayes: the baseline most notebooks write, on text decoded by
  spamclf's own parser (so charset handling is not what is compared) and segmented with jieba.
* byte 4-gram online logistic regression (``bytes4_lr``): Waterloo's TREC 2007 filter.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import joblib
import numpy as np
from bytes4_lr import Bytes4LogisticRegression

from spamclf.corpora import LabelledMessage
from spamclf.parse import parse_bytes

Progress = Callable[[int], None]


def _noop(_: int) -> None:
    pass


def _is_spam(message: LabelledMessage) -> int:
    return int(message.label == "spam")


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --- bogofilter ------------------------------------------------------------------------------


class Bogofilter:
    """bogofilter with its default configuration and a word list in ``folder``."""

    name = "bogofilter"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.threshold = self.spam_cutoff()

    @staticmethod
    def missing() -> str | None:
        """Why bogofilter cannot run here, or None."""
        return None if shutil.which("bogofilter") else "bogofilter is not installed"

    def _run(self, *args: str, stdin: str | None = None) -> str:
        out = subprocess.run(
            ["bogofilter", "-d", str(self.folder), *args],
            input=stdin,
            capture_output=True,
            text=True,
        )
        # Exit codes 0/1/2 are spam/ham/unsure; 3 is an error.
        if out.returncode not in (0, 1, 2):
            raise RuntimeError(f"bogofilter {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout

    def spam_cutoff(self) -> float:
        """The spam_cutoff of the installed configuration (``bogofilter -Q``)."""
        match = re.search(r"spam_cutoff\s*=\s*([0-9.]+)", self._run("-Q"))
        return float(match.group(1)) if match else 0.99

    def train(self, messages: Sequence[LabelledMessage]) -> None:
        """Register every message with its label, in bulk (``-s -b`` / ``-n -b``)."""
        for label, flag in (("spam", "-s"), ("ham", "-n")):
            paths = [m.source for m in messages if m.label == label]
            if paths:
                self._run(flag, "-b", stdin="\n".join(paths) + "\n")

    def scores(self, messages: Sequence[LabelledMessage]) -> np.ndarray:
        """Spamicity of each message (``-TT -b``: full precision, streaming bulk mode)."""
        lines = self._run("-TT", "-b", stdin="\n".join(m.source for m in messages) + "\n")
        values = [float(line.rsplit(None, 1)[1]) for line in lines.splitlines() if line.strip()]
        if len(values) != len(messages):
            raise RuntimeError(f"bogofilter scored {len(values)} of {len(messages)} messages")
        return np.array(values)

    def online(self, messages: Sequence[LabelledMessage], progress: Progress = _noop) -> np.ndarray:
        """Classify each message, then register it with its true label (two runs each)."""
        scores = np.empty(len(messages))
        for i, message in enumerate(messages):
            if i == 0:
                scores[i] = 0.5  # no word list yet: bogofilter refuses to classify
            else:
                scores[i] = float(self._run("-TT", "-I", message.source).split()[-1])
            self._run("-s" if message.label == "spam" else "-n", "-I", message.source)
            progress(1)
        return scores

    def size_bytes(self) -> int:
        return folder_size(self.folder)


# --- SpamAssassin ----------------------------------------------------------------------------

# Bayes on, learning only from sa-learn, no network: the local rules and Bayes, as shipped.
_SA_LOCAL_CF = """\
use_bayes 1
bayes_auto_learn 0
bayes_path {folder}/bayes/bayes
bayes_file_mode 0777
skip_rbl_checks 1
use_razor2 0
use_pyzor 0
dns_available no
"""


class SpamAssassin:
    """SpamAssassin with Bayes learned by ``sa-learn`` and scored by a private ``spamd``."""

    name = "SpamAssassin"
    threshold = 5.0  # required_score, the shipped default

    def __init__(self, folder: Path, children: int = 2) -> None:
        self.folder = folder
        self.site = folder / "site"
        self.socket = folder / "spamd.sock"
        self.children = children
        self._spamd: subprocess.Popen[bytes] | None = None
        (folder / "bayes").mkdir(parents=True, exist_ok=True)
        self.site.mkdir(exist_ok=True)
        for pre in Path("/etc/spamassassin").glob("*.pre"):  # the plugins Debian loads
            shutil.copy(pre, self.site)
        (self.site / "local.cf").write_text(_SA_LOCAL_CF.format(folder=folder))
        # spamd drops root privileges to "nobody", who must read the Bayes files.
        for path in (folder, folder / "bayes", self.site):
            path.chmod(0o777)

    @staticmethod
    def missing() -> str | None:
        for command in ("sa-learn", "spamd", "spamc"):
            if not shutil.which(command):
                return f"{command} is not installed (Debian: apt-get install spamassassin spamc)"
        return None

    def train(self, messages: Sequence[LabelledMessage]) -> None:
        for label in ("spam", "ham"):
            listing = self.folder / f"{label}.list"
            listing.write_text("\n".join(m.source for m in messages if m.label == label) + "\n")
            subprocess.run(
                ["sa-learn", f"--siteconfigpath={self.site}", f"--{label}", "-f", str(listing)],
                check=True,
                capture_output=True,
            )

    def start(self) -> float:
        """Start spamd (Bayes and rules load once); return how long it took to answer."""
        start = time.perf_counter()
        self._spamd = subprocess.Popen(
            [
                "spamd",
                f"--siteconfigpath={self.site}",
                "--local",
                "--nouser-config",
                f"--max-children={self.children}",
                f"--min-children={self.children}",
                f"--socketpath={self.socket}",
                f"--pidfile={self.folder / 'spamd.pid'}",
                "--syslog=stderr",
                *(["--username=nobody"] if os.geteuid() == 0 else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=(self.folder / "spamd.log").open("wb"),
        )
        while not self._answers():
            if self._spamd.poll() is not None or time.perf_counter() - start > 120:
                raise RuntimeError(f"spamd did not start; see {self.folder / 'spamd.log'}")
            time.sleep(0.2)
        return time.perf_counter() - start

    def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        out = subprocess.run(["spamc", "-U", str(self.socket), "-K"], capture_output=True)
        return out.returncode == 0

    def stop(self) -> None:
        if self._spamd and self._spamd.poll() is None:
            self._spamd.send_signal(signal.SIGTERM)
            self._spamd.wait(timeout=60)
        self._spamd = None

    def score_one(self, message: LabelledMessage) -> float:
        """The total score spamd gives one message (``spamc -c`` prints ``score/threshold``).

        ``-x``: without it spamc's "safe fallback" prints ``0/0`` and exits 0 when spamd cannot
        be reached or fails (tried here on a socket with no spamd), which would enter the
        results as a confident ham; with it, such a failure exits with a sysexits code (70 for
        no spamd) and raises here. A message over spamc's default 500 KB limit is still passed
        unscanned as ``0/0``, exit 0: SpamAssassin as shipped (32 of trec06p's 37,821 files
        are that large).
        """
        out = subprocess.run(
            ["spamc", "-U", str(self.socket), "-x", "-c"], input=message.raw, capture_output=True
        )
        if out.returncode not in (0, 1):  # -c: 1 spam, 0 ham
            raise RuntimeError(
                f"spamc failed on {message.source} (exit {out.returncode}): "
                f"{out.stderr.decode(errors='replace').strip()}"
            )
        return float(out.stdout.decode().split("/")[0])

    def scores(
        self, messages: Sequence[LabelledMessage], progress: Progress = _noop, workers: int = 0
    ) -> np.ndarray:
        """Score messages through spamc, as many at a time as spamd has children."""
        with ThreadPoolExecutor(workers or self.children) as pool:
            results = []
            for score in pool.map(self.score_one, messages):
                results.append(score)
                progress(1)
        return np.array(results)

    def spamd_peak_rss_bytes(self) -> int:
        """Peak resident memory of spamd and its children (VmHWM), summed."""
        if not self._spamd:
            return 0
        pids = [self._spamd.pid]
        children = Path(f"/proc/{self._spamd.pid}/task/{self._spamd.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        total = 0
        for pid in pids:
            status = Path(f"/proc/{pid}/status")
            if status.exists():
                match = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
                total += int(match.group(1)) * 1024 if match else 0
        return total

    def size_bytes(self) -> int:
        return folder_size(self.folder / "bayes")


# --- TF-IDF + multinomial naive Bayes ---------------------------------------------------------


def decoded_text(raw: bytes) -> str:
    """Subject and body text as spamclf's parser decodes them."""
    parsed = parse_bytes(raw)
    return parsed.subject + "\n" + parsed.text


def segmented(text: str) -> str:
    """Words separated by spaces, Chinese cut by jieba's dictionary (through rjieba, the same
    algorithm in Rust: spamclf.tokenize measured 80x the speed)."""
    import rjieba

    return " ".join(rjieba.cut(text))


def notebook_text(raw: bytes) -> str:
    return segmented(decoded_text(raw))


def _texts_chunk(chunk: list[bytes]) -> list[str]:
    return [notebook_text(raw) for raw in chunk]


def notebook_texts(raws: Sequence[bytes], n_jobs: int = 2, progress: Progress = _noop) -> list[str]:
    """Decoded, segmented text of every message, parsed in ``n_jobs`` processes."""
    chunks = [list(raws[i : i + 500]) for i in range(0, len(raws), 500)]
    texts: list[str] = []
    parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator")
    for part in parallel(joblib.delayed(_texts_chunk)(chunk) for chunk in chunks):
        texts.extend(part)
        progress(len(part))
    return texts


class TfidfNaiveBayes:
    """``TfidfVectorizer()`` + ``MultinomialNB()`` with scikit-learn's defaults."""

    name = "TF-IDF + naive Bayes"
    threshold = 0.5  # predict(): the more probable class

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.naive_bayes import MultinomialNB
        from sklearn.pipeline import make_pipeline

        self.pipeline = make_pipeline(TfidfVectorizer(), MultinomialNB())

    def train_texts(self, texts: Sequence[str], y: np.ndarray) -> None:
        self.pipeline.fit(texts, y)

    def scores_texts(self, texts: Sequence[str]) -> np.ndarray:
        return self.pipeline.predict_proba(texts)[:, 1]

    def scores_raw(self, raws: Sequence[bytes]) -> np.ndarray:
        """From raw bytes: decode, segment, vectorize, score (what a user's script does)."""
        return self.scores_texts([notebook_text(raw) for raw in raws])

    def save(self, path: Path) -> None:
        with path.open("wb") as handle:
            pickle.dump(self.pipeline, handle, protocol=pickle.HIGHEST_PROTOCOL)


# --- byte 4-gram logistic regression ----------------------------------------------------------


class Bytes4LR:
    """Waterloo's online logistic regression; in the batch protocol, one pass over the
    training split in its order (the filter has no other training mode)."""

    name = "byte 4-gram LR"
    threshold = 0.0  # log-odds 0: probability 0.5

    def __init__(self) -> None:
        self.model = Bytes4LogisticRegression()

    def train(self, messages: Sequence[LabelledMessage]) -> None:
        self.model.partial_fit([m.raw for m in messages], [_is_spam(m) for m in messages])

    def scores(self, messages: Sequence[LabelledMessage]) -> np.ndarray:
        return self.model.decision_function([m.raw for m in messages])

    def online(self, messages: Sequence[LabelledMessage], progress: Progress = _noop) -> np.ndarray:
        fresh = Bytes4LogisticRegression()
        scores = np.empty(len(messages))
        for i, message in enumerate(messages):
            scores[i] = fresh.classify_then_learn(message.raw, _is_spam(message))
            progress(1)
        return scores


def scratch_folder(name: str) -> Path:
    """A fresh temporary folder for one peer's state (removed by the caller)."""
    return Path(tempfile.mkdtemp(prefix=f"spamclf-bench-{name}-"))
