"""Feature tokens to column indices of a fixed-width sparse vector (the hashing trick).

Hashing keeps the model a fixed size whatever the vocabulary (trec06c alone has millions of
distinct tokens) and needs no fitted vocabulary, so ``learn()`` can add new words. The usual
price, no inverse mapping, does not apply here: a verdict explains a message from its own
tokens, which are at hand when it is scored.

CRC-32 from :mod:`zlib` is the hash: stable across platforms and Python versions (unlike
``hash()``), and in C, so the cold path never imports scikit-learn.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["DEFAULT_N_FEATURES", "feature_index", "hash_tokens"]

# 2**20 columns: at most a few collisions per message; the weights take 4 MB as float32.
DEFAULT_N_FEATURES = 2**20


def feature_index(token: str, n_features: int) -> int:
    """The column of one token.

    >>> feature_index("subject:free", 2**20)
    441646
    """
    return zlib.crc32(token.encode("utf-8", "surrogatepass")) % n_features


def hash_tokens(tokens: Iterable[str], n_features: int) -> np.ndarray:
    """Sorted, unique column indices of ``tokens`` (presence features)."""
    indices = {zlib.crc32(t.encode("utf-8", "surrogatepass")) % n_features for t in tokens}
    return np.fromiter(sorted(indices), dtype=np.int32, count=len(indices))


def rows_to_csr(rows: Sequence[np.ndarray], n_features: int):  # type: ignore[no-untyped-def]
    """Stack index arrays into a binary CSR matrix (imports SciPy, for batch work only)."""
    import scipy.sparse

    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=indptr[1:])
    indices = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32)
    data = np.ones(len(indices), dtype=np.float32)
    return scipy.sparse.csr_matrix((data, indices, indptr), shape=(len(rows), n_features))
