"""Shared by the benchmark scripts: corpus location, cached feature matrices, result tables.

Vectorizing the four email corpora takes minutes, so each split is vectorized once and cached
under ``benchmarks/cache/`` (git-ignored). The cache key holds the feature schema, the width and
a digest of the source of every module between raw bytes and vector, so any change to how
messages are read re-vectorizes: benchmark numbers always come from the code as it is.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import spamclf  # noqa: E402
from spamclf.corpora import split_benchmark  # noqa: E402
from spamclf.metrics import Metrics, evaluate  # noqa: E402
from spamclf.model import DEFAULT_C, Model, ModelSettings  # noqa: E402
from spamclf.persist import FEATURE_SCHEMA  # noqa: E402
from spamclf.pipeline import fit_model  # noqa: E402

# Throughput is the best of this many runs, for every filter alike: other work on this shared
# machine only ever slows a run down, and it slows the all-cores runs most (a full run with
# load average 1.7 at its start gave spamclf 1.65x one core; the same code on a quiet machine
# 1.8-1.9x).
THROUGHPUT_RUNS = 3


def best_rate(
    count: int, run: Callable[[], object], prepare: Callable[[], object] | None = None
) -> float:
    """Messages per second of the fastest of ``THROUGHPUT_RUNS`` calls of ``run``, each
    scoring ``count`` messages; ``prepare``, untimed, runs before each."""
    fastest = math.inf
    for _ in range(THROUGHPUT_RUNS):
        if prepare:
            prepare()
        start = time.perf_counter()
        run()
        fastest = min(fastest, time.perf_counter() - start)
    return count / fastest if fastest > 0 else float("nan")


def uptime() -> str:
    """``uptime``'s line: how busy the machine was, for reports that time anything."""
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def commit() -> str:
    """The commit measured, marked when the working tree differs from it."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{head} (modified)" if dirty else head or "unknown"


FEATURE_MODULES = (
    "_chartables",
    "charsets",
    "htmltext",
    "parse",
    "tokenize",
    "normalize",
    "origin",
    "features",
    "scripts",
    "vectorize",
)
EMAIL_CORPORA = ("trec06c", "trec06p", "spamassassin", "enron-spam")
CACHE = ROOT / "benchmarks" / "cache"


def corpora_dir(argument: str | None) -> Path:
    """The corpus folder: the argument, else $SPAMCLF_CORPORA, else ~/.cache/spamclf/corpora."""
    default = os.environ.get("SPAMCLF_CORPORA") or str(Path.home() / ".cache/spamclf/corpora")
    path = Path(argument or default)
    if not (path / "trec06c").is_dir():
        sys.exit(f"no corpora in {path}: run ../shared/corpora/extract.sh or pass --corpora DIR")
    return path


def feature_code_digest(package: Path | None = None) -> str:
    """A short digest of the modules that turn a message into a row, in ``package`` (by
    default the spamclf package imported, which benchmarks/evasion.py points at another tree)."""
    package = package or Path(spamclf.__file__).resolve().parent
    digest = hashlib.sha256()
    for name in FEATURE_MODULES:
        path = package / f"{name}.py"
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:12]


def split_matrices(
    corpus: str, root: Path, settings: ModelSettings, n_jobs: int = 2
) -> dict[str, tuple[sp.csr_matrix, np.ndarray]]:
    """``{"train": (X, y), "test": (X, y)}`` for a corpus under the benchmark protocol
    (each row's writing system is cached beside them: :func:`split_scripts`)."""
    paths = cache_paths(corpus, settings)
    paths["train"].parent.mkdir(parents=True, exist_ok=True)
    if not all(p.with_suffix(".scripts.npy").exists() for p in paths.values()):
        # Imported here: benchmarks/evasion_rows.py imports this module with an older spamclf
        # (without model_matrix) first on the path.
        from spamclf.pipeline import model_matrix

        train, test = split_benchmark(corpus, root)
        for part, messages in (("train", train), ("test", test)):
            bar = tqdm(total=len(messages), unit="msg", desc=f"{corpus} {part}", mininterval=2)
            X, scripts = model_matrix(
                [m.raw for m in messages], settings, n_jobs=n_jobs, progress=bar.update
            )
            bar.close()
            y = np.array([m.label == "spam" for m in messages], dtype=np.int8)
            sp.save_npz(paths[part], X)
            np.save(paths[part].with_suffix(".labels.npy"), y)
            np.save(paths[part].with_suffix(".scripts.npy"), np.array(scripts))
    return {
        part: (sp.load_npz(path).tocsr(), np.load(path.with_suffix(".labels.npy")))
        for part, path in paths.items()
    }


def split_scripts(corpus: str, part: str, settings: ModelSettings) -> np.ndarray:
    """The writing system of each row of a cached split (after :func:`split_matrices`)."""
    return np.load(cache_paths(corpus, settings)[part].with_suffix(".scripts.npy"))


def measure(model: Model, X: sp.csr_matrix, y: np.ndarray, scripts: np.ndarray) -> Metrics:
    """Every metric of ``model`` on rows ``X``; at the operating point (FPR, FNR, lam) the
    messages in writing systems the model declines to label count as labelled neither."""
    labelled = familiar(model, scripts)
    return evaluate(y, model.score_rows(X), model.settings.spam_cutoff, labelled=labelled)


def unsure_rate(model: Model, X: sp.csr_matrix, scripts: np.ndarray) -> float:
    """The share of messages labelled ``unsure``: between the cutoffs, or held back."""
    scores = model.score_rows(X)
    s = model.settings
    between = (scores >= s.ham_cutoff) & (scores < s.spam_cutoff)
    return float((between | ~familiar(model, scripts)).mean())


def familiar(model: Model, scripts: np.ndarray) -> np.ndarray:
    """Which messages ``model`` labels at all (the others it calls unsure: spamclf.scripts)."""
    return np.array([model.is_familiar(str(s)) for s in scripts], dtype=bool)


def cache_folder(
    n_features: int, schema: str = FEATURE_SCHEMA, package: Path | None = None
) -> Path:
    """Where rows of ``n_features`` columns are cached: named by the feature schema and the
    feature code of ``package`` (by default the spamclf imported, see feature_code_digest)."""
    return CACHE / f"{schema}-{n_features}-{feature_code_digest(package)}"


def cache_paths(corpus: str, settings: ModelSettings) -> dict[str, Path]:
    """Where the feature matrices of a corpus's train and test splits are cached."""
    folder = cache_folder(settings.n_features)
    return {part: folder / f"{corpus}_{part}.npz" for part in ("train", "test")}


def load_corpora(argument: str | None) -> tuple[Path, ModelSettings, dict]:
    """The corpus folder, the default settings, and every email corpus's split matrices."""
    root = corpora_dir(argument)
    settings = ModelSettings()
    return root, settings, {name: split_matrices(name, root, settings) for name in EMAIL_CORPORA}


def fit_parts(
    data: dict[str, dict[str, tuple[sp.csr_matrix, np.ndarray]]],
    parts: list[tuple[str, str]],
    settings: ModelSettings,
    *,
    C: float = DEFAULT_C,
    card: dict | None = None,
) -> Model:
    """The default recipe fitted on ``(corpus, part)`` splits, each corpus weighing the same."""
    X, y = stack([data[name][part] for name, part in parts])
    groups = [name for name, part in parts for _ in data[name][part][1]]
    scripts = np.concatenate([split_scripts(name, part, settings) for name, part in parts])
    return fit_model(
        X, y, C=C, settings=settings, card=card or {}, groups=groups, scripts=list(scripts)
    )


def stack(parts: list[tuple[sp.csr_matrix, np.ndarray]]) -> tuple[sp.csr_matrix, np.ndarray]:
    return sp.vstack([X for X, _ in parts]).tocsr(), np.concatenate([y for _, y in parts])


def write_report(name: str, lines: list[str]) -> None:
    """Write ``benchmarks/NAME`` from report ``lines`` and print it."""
    text = "\n".join(lines) + "\n"
    (ROOT / "benchmarks" / name).write_text(text, encoding="utf-8")
    print(text)


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
