"""Tests of spamclf.pipeline: the scikit-learn pipeline and the matrix training is fitted on."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score

import spamclf
from spamclf.model import ModelSettings
from spamclf.pipeline import MessageVectorizer, make_pipeline, model_matrix, row_chunks
from spamclf.vectorize import rows_to_csr

SETTINGS = ModelSettings(n_features=2**12)


def _rows(messages: list[bytes]):  # type: ignore[no-untyped-def]
    return [row for chunk in row_chunks(messages, SETTINGS) for row in chunk]


@pytest.mark.parametrize("chunk", [4, 256])
def test_model_matrix_built_chunk_by_chunk_equals_the_matrix_of_all_rows(
    corpus: tuple[list[bytes], list[str]], monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    messages = corpus[0][:30]
    rows = _rows(messages)
    monkeypatch.setattr("spamclf.pipeline._CHUNK", chunk)
    X, scripts = model_matrix(iter(messages), SETTINGS)
    whole = rows_to_csr(rows, SETTINGS.n_features)
    assert X.shape == whole.shape == (30, 2**12)
    assert (X.indptr == whole.indptr).all() and (X.indices == whole.indices).all()
    assert (X.data == whole.data).all() and X.data.dtype == np.float32
    assert scripts == [row.script for row in rows]


def test_model_matrix_of_no_messages_is_empty() -> None:
    X, scripts = model_matrix([], SETTINGS)
    assert X.shape == (0, 2**12) and scripts == []


def test_the_pipeline_follows_the_estimator_conventions(
    corpus: tuple[list[bytes], list[str]],
) -> None:
    messages, labels = corpus
    y = np.array([label == "spam" for label in labels], dtype=int)
    pipeline = make_pipeline(C=1.0, n_features=2**12)
    twin = clone(pipeline)
    assert twin.get_params()["classifier__estimator__C"] == 1.0
    assert twin.set_params(vectorizer__n_features=2**10) is twin
    assert twin.named_steps["vectorizer"].n_features == 2**10
    scores = cross_val_score(pipeline, messages, y, cv=3, scoring="roc_auc")
    assert scores.min() > 0.9
    probabilities = pipeline.fit(messages, y).predict_proba(messages[:4])
    assert probabilities.shape == (4, 2) and np.allclose(probabilities.sum(axis=1), 1.0)


def test_the_pipeline_and_train_fit_the_same_svm(corpus: tuple[list[bytes], list[str]]) -> None:
    """One way through the code: spamclf.train is this pipeline, wrapped as a NumPy model."""
    messages, labels = corpus
    y = np.array([label == "spam" for label in labels], dtype=int)
    pipeline = make_pipeline(C=1.0, n_features=2**12).fit(messages, y)
    model = spamclf.train(messages, labels, C=1.0, settings=SETTINGS)
    svm = pipeline.named_steps["classifier"].calibrated_classifiers_[0].estimator
    assert np.array_equal(svm.coef_.ravel(), model.weights)
    assert svm.intercept_[0] == model.intercept


def test_message_vectorizer_refuses_fewer_than_two_columns() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        MessageVectorizer(n_features=1).fit([b"Subject: x\n\ny\n"])


def test_message_vectorizer_reads_one_trusted_network_written_as_a_str(
    corpus: tuple[list[bytes], list[str]],
) -> None:
    # As ModelSettings does: the str was cut into characters, each "not a network".
    messages = corpus[0][:4]
    one = MessageVectorizer(n_features=2**12, trusted_networks="218.79.0.0/16")
    listed = MessageVectorizer(n_features=2**12, trusted_networks=("218.79.0.0/16",))
    assert (one.fit_transform(messages) != listed.fit_transform(messages)).nnz == 0
