"""Features to a sparse row of a fixed width (the hashing trick), unit length unless short.

Hashing keeps the model a fixed size whatever the vocabulary (trec06c alone has millions of
distinct tokens) and needs no fitted vocabulary, so ``learn()`` can add new words. The usual
price, no inverse mapping, does not apply here: a verdict explains a message from its own
features, which are at hand when it is scored.

A row has two blocks: the word tokens, and the character 4-grams of ``Features.chars``. Each
block is scaled to unit length, the character block then weighs ``CHAR_BLOCK_WEIGHT`` of the
word block, and the row is scaled to unit length again. Unscaled, a message's 3,000 character
4-grams would drown its 300 words; at weight 1.0 SpamAssassin's (1-AUC)% rose from 0.016 to
0.020, at 0.7 it held while trec06c's fell from 0.0019 to 0.0011 (benchmarks/model_selection.md).

A row of fewer than ``SHORT_ROW`` features is then shortened by sqrt(features / SHORT_ROW), so
that its score leans towards the intercept. At unit length, each of an empty-bodied message's
few dozen features weighs several times what one of a long message's weighs, and one word
could make it certain: Enron's test sample was decided by a ham whose only text was its subject.
This lowered the (1-AUC)% of all four corpora's split models (section 5 of
benchmarks/model_selection.md).

Word tokens are hashed with CRC-32 (:mod:`zlib`: stable across platforms and Python versions,
unlike ``hash()``); character 4-grams with a multiplicative hash over their code points, in
NumPy, which is 30 times faster than hashing 3,000 substrings one by one. Neither needs
scikit-learn, so scoring never imports it.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from spamclf.scripts import NO_SCRIPT

__all__ = [
    "CHAR_BLOCK_WEIGHT",
    "DEFAULT_N_FEATURES",
    "SHORT_ROW",
    "Row",
    "feature_index",
    "hash_row",
]

# 2**20 columns: at most a few collisions per message; the weights take 4 MB as float32.
DEFAULT_N_FEATURES = 2**20
CHAR_BLOCK_WEIGHT = 0.7
CHAR_NGRAM = 4
SHORT_ROW = 100
_MIX = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio: spreads nearby code points apart
_MIX2 = np.uint64(0xBF58476D1CE4E5B9)


class Row(NamedTuple):
    """A message as the model sees it: sorted unique ``columns`` with their ``values``; and,
    to explain a verdict, each word token's column and value, and each distinct character
    4-gram's column and first position in the text (all 4-grams share ``char_value``); and
    the writing system of the text, which training counts (:mod:`spamclf.scripts`)."""

    columns: np.ndarray
    values: np.ndarray
    token_columns: np.ndarray
    token_values: np.ndarray
    char_columns: np.ndarray
    char_positions: np.ndarray
    char_value: float
    script: str = NO_SCRIPT


def feature_index(token: str, n_features: int) -> int:
    """The column of one word token.

    >>> feature_index("subject:free", 2**20)
    441646
    """
    return zlib.crc32(token.encode("utf-8", "surrogatepass")) % n_features


def char_ngram_hashes(text: str) -> np.ndarray:
    """A 64-bit hash of every character 4-gram of ``text``, in order."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if len(codes) < CHAR_NGRAM:
        return np.zeros(0, dtype=np.uint64)
    codes = codes.astype(np.uint64)
    n = len(codes) - CHAR_NGRAM + 1
    hashes = np.zeros(n, dtype=np.uint64)
    for offset in range(CHAR_NGRAM):  # uint64 arithmetic wraps around, as a hash should
        hashes = (hashes + codes[offset : offset + n]) * _MIX
    hashes ^= hashes >> np.uint64(31)
    hashes *= _MIX2
    hashes ^= hashes >> np.uint64(29)
    return hashes


def hash_row(tokens: Sequence[str], chars: str, n_features: int) -> Row:
    """Hash unique word ``tokens`` and the 4-grams of ``chars`` into a unit-length row (shorter
    when it has fewer than ``SHORT_ROW`` columns).

    >>> row = hash_row(["subject:free", "body:offer"], "", 2**20)
    >>> row.values.round(4).tolist()  # unit length would be 0.7071 each; x sqrt(2 / 100)
    [0.1, 0.1]
    """
    token_columns = (
        np.fromiter(
            (zlib.crc32(t.encode("utf-8", "surrogatepass")) for t in tokens), np.int64, len(tokens)
        )
        % n_features
    )
    order, hashes, starts = _sorted_runs(char_ngram_hashes(chars))
    positions = np.minimum.reduceat(order, starts)  # each distinct 4-gram's first position
    char_columns = (hashes % np.uint64(n_features)).astype(np.int64)
    word_value = 1.0 / np.sqrt(len(token_columns)) if len(token_columns) else 0.0
    char_value = CHAR_BLOCK_WEIGHT / np.sqrt(len(char_columns)) if len(char_columns) else 0.0
    all_columns = np.concatenate([token_columns, char_columns])
    all_values = np.concatenate(
        [np.full(len(token_columns), word_value), np.full(len(char_columns), char_value)]
    )
    order, columns, starts = _sorted_runs(all_columns)
    values = np.add.reduceat(all_values[order], starts)  # colliding features add up
    norm = float(np.linalg.norm(values)) or 1.0
    scale = min(1.0, math.sqrt(len(columns) / SHORT_ROW)) / norm
    return Row(
        columns.astype(np.int32),
        values * scale,
        token_columns,
        np.full(len(token_columns), word_value * scale),
        char_columns,
        positions,
        float(char_value * scale),
    )


def _sorted_runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``keys`` sorted: the sorting order, the distinct keys, and where each one's run starts.

    What ``np.unique`` computes, but with NumPy's default sort instead of a stable one: on a
    message's few hundred keys that took hash_row from 142 to 126 us (trec06c and trec06p).
    """
    order = np.argsort(keys)
    ordered = keys[order]
    starts_run = np.ones(len(ordered), dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=starts_run[1:])
    starts = np.flatnonzero(starts_run)
    return order, ordered[starts], starts


def rows_to_csr(rows: Sequence[Row], n_features: int):  # type: ignore[no-untyped-def]
    """Stack rows into a CSR matrix (imports SciPy, for batch work only)."""
    import scipy.sparse

    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r.columns) for r in rows], out=indptr[1:])
    if rows:
        indices = np.concatenate([r.columns for r in rows])
        data = np.concatenate([r.values for r in rows]).astype(np.float32)
    else:
        indices, data = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
    return scipy.sparse.csr_matrix((data, indices, indptr), shape=(len(rows), n_features))
