"""Feature tokens to a unit-length sparse row of a fixed width (the hashing trick).

Hashing keeps the model a fixed size whatever the vocabulary (trec06c alone has millions of
distinct tokens) and needs no fitted vocabulary, so ``learn()`` can add new words. The usual
price, no inverse mapping, does not apply here: a verdict explains a message from its own
tokens, which are at hand when it is scored.

Tokens come in two blocks. Each block is scaled to unit length, the character 4-gram block
(``chars:``) then weighs ``CHAR_BLOCK_WEIGHT`` of the word block, and the row is scaled to unit
length again. Without the blocks, a message's 3,000 character n-grams would drown its 300 words;
with equal weights SpamAssassin's (1-AUC)% rose from 0.016 to 0.020, at 0.7 it stayed while
trec06c's fell from 0.0019 to 0.0011 (benchmarks/model_selection.md).

CRC-32 from :mod:`zlib` is the hash: stable across platforms and Python versions (unlike
``hash()``), and in C, so the scoring path never imports scikit-learn.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

__all__ = ["CHAR_BLOCK_WEIGHT", "DEFAULT_N_FEATURES", "Row", "feature_index", "hash_row"]

# 2**20 columns: at most a few collisions per message; the weights take 4 MB as float32.
DEFAULT_N_FEATURES = 2**20
CHAR_BLOCK_WEIGHT = 0.7
CHAR_PREFIX = "chars:"


class Row(NamedTuple):
    """A message as the model sees it: ``columns`` (sorted, unique) with their ``values``, and
    per token (in the order given) its column and value, for explaining a verdict."""

    columns: np.ndarray
    values: np.ndarray
    token_columns: np.ndarray
    token_values: np.ndarray


def feature_index(token: str, n_features: int) -> int:
    """The column of one token.

    >>> feature_index("subject:free", 2**20)
    441646
    """
    return zlib.crc32(token.encode("utf-8", "surrogatepass")) % n_features


def hash_row(tokens: Sequence[str], n_features: int) -> Row:
    """Hash unique ``tokens`` into a unit-length row (see the module docstring for the blocks).

    >>> row = hash_row(["subject:free", "body:offer"], 2**20)
    >>> row.values.round(4).tolist()
    [0.7071, 0.7071]
    """
    count = len(tokens)
    token_columns = np.fromiter(
        (zlib.crc32(t.encode("utf-8", "surrogatepass")) for t in tokens), np.int64, count
    ) % n_features
    is_char = np.fromiter((t.startswith(CHAR_PREFIX) for t in tokens), bool, count)
    n_chars = int(is_char.sum())
    n_words = count - n_chars
    word_value = 1.0 / np.sqrt(n_words) if n_words else 0.0
    char_value = CHAR_BLOCK_WEIGHT / np.sqrt(n_chars) if n_chars else 0.0
    token_values = np.where(is_char, char_value, word_value)
    columns, inverse = np.unique(token_columns, return_inverse=True)
    values = np.bincount(inverse, weights=token_values, minlength=len(columns))
    norm = float(np.linalg.norm(values))
    if norm > 0.0:
        values /= norm
        token_values = token_values / norm
    return Row(columns.astype(np.int32), values, token_columns, token_values)


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
