"""spamclf.distributed on a LocalCluster of two single-threaded worker processes.

One cluster serves the whole module (starting one takes about a second). Dask is in the
``dev`` extra, so these tests run wherever the suite runs; they are not skipped. Scores must equal
serial Model.classify scores exactly: workers run the same code on the same float64 weights.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import dask
import dask.bag as db
import dask.dataframe as dd
import distributed
import numpy as np
import pandas as pd
import pytest
from conftest import ALL_FIXTURES, fixture_path, synthetic_corpus

import spamclf
from spamclf import distributed as sd
from spamclf.errors import CorpusError, InputError, SpamclfError
from spamclf.model import Model


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_classify_bag_matches_serial_verdicts_in_order(client, corpus, small_model: Model):
    messages, _ = corpus
    bag = db.from_sequence(messages, npartitions=4)
    verdicts = sd.classify_bag(bag, small_model).compute()
    assert verdicts == [small_model.classify(m) for m in messages]


def test_classify_bag_reads_paths_on_the_workers(client, small_model: Model):
    paths = [str(fixture_path(name)) for name in ALL_FIXTURES]
    verdicts = sd.classify_bag(db.from_sequence(paths, npartitions=3), small_model).compute()
    assert [v.score for v in verdicts] == [small_model.classify(p).score for p in paths]


def test_classify_bag_works_without_a_distributed_client(corpus, small_model, monkeypatch):
    messages, _ = corpus
    monkeypatch.setattr(sd, "_current_client", lambda: None)
    verdicts = sd.classify_bag(db.from_sequence(messages[:10], npartitions=2), small_model)
    assert verdicts.compute(scheduler="sync") == [small_model.classify(m) for m in messages[:10]]


def test_classify_series_gives_label_score_reasons_by_index(client, corpus, small_model: Model):
    messages, _ = corpus
    # Raw bytes must stay bytes: Dask would otherwise turn the column into UTF-8 strings.
    with dask.config.set({"dataframe.convert-string": False}):
        frame = pd.DataFrame({"raw": messages}, index=pd.RangeIndex(100, 100 + len(messages)))
        column = dd.from_pandas(frame, npartitions=3)["raw"]
        result = sd.classify_series(column, small_model).compute()
    expected = [small_model.classify(m) for m in messages]
    assert result.index.tolist() == frame.index.tolist()
    assert result["score"].tolist() == [v.score for v in expected]
    assert result["label"].tolist() == [v.label for v in expected]
    first = json.loads(result["reasons"].iloc[0])
    assert first == [[r.feature, r.contribution] for r in expected[0].reasons[:3]]


def test_ship_model_puts_the_model_on_every_worker_once(client, small_model: Model):
    before = set(client.who_has())
    shipped = sd.ship_model(small_model, client)
    holders = client.who_has()
    # Keys of earlier tests may still be settling, so look only at model keys.
    new_models = {key for key in holders if key.startswith("Model-")} - before
    assert new_models == {shipped.key}  # one key, however many workers
    assert set(holders[shipped.key]) == set(client.scheduler_info()["workers"])


@pytest.fixture(scope="module")
def dask_model(client, corpus) -> Model:
    """The synthetic corpus trained out of core, its Chinese mail a group of its own."""
    messages, labels = corpus
    items = [
        (m, y, "cn" if i % 4 == 0 else "en")
        for i, (m, y) in enumerate(zip(messages, labels, strict=True))
    ]
    # A looser tolerance than the default keeps this under a few seconds on a busy machine.
    return sd.train(db.from_sequence(items, npartitions=3), tolerance=1e-6, description="dask")


def test_train_out_of_core_gives_a_working_model(dask_model: Model, tmp_path):
    training = dask_model.card["training"]
    assert training["out_of_core"] is True
    assert (training["messages"], training["spam"], training["partitions"]) == (80, 40, 3)
    assert training["balanced_groups"] == ["cn", "en"]
    held_out, held_out_labels = synthetic_corpus(seed=1)
    scores = np.array([dask_model.classify(m).score for m in held_out])
    truth = np.array([label == "spam" for label in held_out_labels])
    assert scores[truth].min() > scores[~truth].max()
    dask_model.save(tmp_path / "dask.spamclf")
    reloaded = spamclf.load_model(tmp_path / "dask.spamclf")
    assert reloaded.classify(held_out[0]).score == pytest.approx(scores[0], abs=1e-6)


def test_train_out_of_core_solves_the_in_memory_svm(dask_model: Model, corpus):
    messages, labels = corpus
    groups = ["cn" if i % 4 == 0 else "en" for i in range(len(messages))]
    in_memory = spamclf.train(messages, labels, groups=groups)
    # The same objective as the in-memory LinearSVC: decision values agree up to tolerance.
    ours = [dask_model.decision(dask_model.features(m))[0] for m in messages]
    theirs = [in_memory.decision(in_memory.features(m))[0] for m in messages]
    assert np.corrcoef(ours, theirs)[0, 1] > 0.999
    assert (
        dask_model.script_counts == in_memory.script_counts == {"han": [10, 20], "latin": [30, 20]}
    )


@pytest.mark.parametrize(
    ("items", "error"),
    [
        ([b"Subject: x\n\nno label"] * 8, InputError),
        ([(b"Subject: x\n\nbody", "maybe")] * 8, CorpusError),
        ([(b"Subject: x\n\nbody", "spam")] * 8, InputError),
    ],
)
def test_train_rejects_bad_items(client, items, error):
    with pytest.raises(error):
        sd.train(db.from_sequence(items, npartitions=2))


def test_train_without_a_distributed_client_says_so(corpus, monkeypatch):
    messages, labels = corpus
    monkeypatch.setattr(sd, "_current_client", lambda: None)
    with pytest.raises(SpamclfError, match="Client"):
        sd.train(db.from_sequence(list(zip(messages, labels, strict=True))), client=None)


@pytest.mark.parametrize("C", [0, -1.0, float("nan"), "2"])
def test_train_refuses_a_bad_c_before_any_work(C, monkeypatch):
    # As spamclf.train does; a negative C made the objective unbounded below.
    monkeypatch.setattr(sd, "_current_client", lambda: None)
    with pytest.raises(InputError, match="C must"):
        sd.train(db.from_sequence([(b"Subject: x\n\nbody", "spam")]), C=C)


def test_import_spamclf_never_imports_dask_and_missing_dask_gives_a_hint():
    code = (
        "import sys; import spamclf; assert 'dask' not in sys.modules\n"
        "sys.modules['dask'] = None\n"
        "try:\n    import spamclf.distributed\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'spamclf[dask]'" in out.stdout
