"""Tests of spamclf.persist: round trips, cards, integrity, versions, refusal of pickles."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import pickle
import signal
import stat
import subprocess
import sys
import threading
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import joblib
import numpy as np
import pytest
from conftest import ALL_FIXTURES, rewrite_model_header

import spamclf
from spamclf import persist
from spamclf.errors import ModelError, ModelIntegrityError, ModelVersionError, SpamclfError
from spamclf.model import Model, ModelSettings
from spamclf.parse import Limits
from spamclf.persist import (
    FEATURE_SCHEMA,
    FORMAT_VERSION,
    card_path,
    check_can_save,
    load_model,
    save_model,
)

Loader = Callable[[str], bytes]


class _WritesFile:
    """A pickle payload that creates ``path`` when unpickled, as a hostile model file would."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.path), "w"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_round_trip_gives_identical_scores(
    small_model: Model, tmp_model_path: Path, fixture_bytes: Loader, name: str
) -> None:
    loaded = load_model(tmp_model_path)
    data = fixture_bytes(name)
    assert loaded.classify(data).score == pytest.approx(small_model.classify(data).score, abs=1e-6)


def test_round_trip_keeps_settings_and_parameters(small_model: Model, tmp_model_path: Path) -> None:
    loaded = load_model(tmp_model_path)
    assert loaded.settings == small_model.settings
    assert loaded.intercept == small_model.intercept
    assert loaded.calibration == small_model.calibration
    np.testing.assert_allclose(loaded.weights, small_model.weights, rtol=1e-6)


def test_a_model_that_learned_online_goes_on_where_it_stopped(
    small_model: Model, tmp_path: Path, fixture_bytes: Loader
) -> None:
    # The learning variances travel with the model: the next learn() after a load steps
    # exactly as it would have without the save.
    model = copy.deepcopy(small_model)
    model.learn(fixture_bytes("english_ham"), "spam")
    save_model(model, tmp_path / "m.spamclf")
    loaded = load_model(tmp_path / "m.spamclf")
    assert model.variances is not None and loaded.variances is not None
    np.testing.assert_allclose(loaded.variances, model.variances, rtol=1e-6)
    for m in (model, loaded):
        m.learn(fixture_bytes("gb2312_spam"), "ham")
    np.testing.assert_allclose(loaded.weights, model.weights, rtol=1e-5, atol=1e-7)


def test_an_online_model_keeps_reading_header_words_after_a_load(tmp_path: Path) -> None:
    save_model(Model.empty(), tmp_path / "online.spamclf")
    assert load_model(tmp_path / "online.spamclf").settings.header_words


def test_a_model_saved_with_the_retired_learning_setting_still_loads() -> None:
    settings = Model.empty().settings.as_dict()
    del settings["learning_regularization"]
    settings["learning_aggressiveness"] = 1.0  # what models saved before AROW carry
    assert ModelSettings.from_dict(settings) == ModelSettings(header_words=True)


def test_a_model_that_never_learned_saves_no_variances(
    small_model: Model, tmp_model_path: Path
) -> None:
    with np.load(tmp_model_path, allow_pickle=False) as data:
        assert "variances" not in data
    assert load_model(tmp_model_path).variances is None


def test_save_accepts_str_paths_and_creates_folders(small_model: Model, tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "m.spamclf"
    save_model(small_model, str(path))
    assert path.is_file()
    assert card_path(path).is_file()
    assert load_model(str(path)).settings == small_model.settings


class _BytesPath:
    """An ``os.PathLike`` whose ``__fspath__`` gives bytes, as the os module allows."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __fspath__(self) -> bytes:
        return bytes(self.path)


@pytest.mark.parametrize("form", [bytes, _BytesPath], ids=["bytes", "pathlike-of-bytes"])
def test_save_and_load_accept_bytes_paths(
    small_model: Model, tmp_path: Path, form: Callable[[Path], object]
) -> None:
    # Both raised a bare TypeError from Path() (load_model refused plain bytes outright).
    path = tmp_path / "m.spamclf"
    small_model.save(form(path))  # type: ignore[arg-type]
    assert card_path(path).is_file()
    assert load_model(form(path)).settings == small_model.settings  # type: ignore[arg-type]


def test_a_card_with_numpy_numbers_and_paths_saves_as_json(
    small_model: Model, tmp_path: Path
) -> None:
    # Each failed save() with a bare TypeError: JSON writes neither.
    model = small_model.with_settings()
    model.card["training"]["description"] = tmp_path / "corpus"
    model.card["evaluation"] = {"auc": np.float32(0.5), "n": np.int64(7), "per_fold": np.ones(2)}
    model.save(tmp_path / "m.spamclf")
    card = load_model(tmp_path / "m.spamclf").card
    assert card["training"]["description"] == str(tmp_path / "corpus")
    assert card["evaluation"] == {"auc": 0.5, "n": 7, "per_fold": [1.0, 1.0]}


@pytest.mark.parametrize("value", [{"a", "b"}, object(), {1: "one", "two": 2}])
def test_a_card_json_cannot_write_raises_model_error_and_keeps_the_old_model(
    small_model: Model, tmp_model_path: Path, value: object
) -> None:
    before = tmp_model_path.read_bytes(), card_path(tmp_model_path).read_bytes()
    model = small_model.with_settings(spam_cutoff=0.95)
    model.card["notes"] = value
    with pytest.raises(ModelError, match="card holds what JSON cannot write"):
        model.save(tmp_model_path)
    assert (tmp_model_path.read_bytes(), card_path(tmp_model_path).read_bytes()) == before
    assert sorted(p.name for p in tmp_model_path.parent.iterdir()) == sorted(
        [tmp_model_path.name, card_path(tmp_model_path).name]
    )


def test_card_path_sits_beside_the_model() -> None:
    assert card_path("models/default.spamclf") == Path("models/default.spamclf.card.json")


def test_card_describes_the_model(tmp_model_path: Path) -> None:
    card = json.loads(card_path(tmp_model_path).read_text(encoding="utf-8"))
    assert card["sha256"] == _sha256(tmp_model_path)
    assert card["size_bytes"] == tmp_model_path.stat().st_size
    assert card["format_version"] == FORMAT_VERSION
    assert card["feature_schema"] == FEATURE_SCHEMA
    assert {"spamclf", "numpy", "scikit-learn", "python"} <= set(card["versions"])
    assert card["training"]["messages"] == 80
    assert card["training"]["spam"] == 40
    assert card["training"]["ham"] == 40
    assert card["settings"]["n_features"] > 0


def test_loaded_model_carries_its_card(tmp_model_path: Path) -> None:
    assert load_model(tmp_model_path).card["sha256"] == _sha256(tmp_model_path)


def test_tampered_file_raises_integrity_error(tmp_model_path: Path) -> None:
    data = bytearray(tmp_model_path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tmp_model_path.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        load_model(tmp_model_path)


def test_truncated_file_raises_integrity_error(tmp_model_path: Path) -> None:
    tmp_model_path.write_bytes(tmp_model_path.read_bytes()[:100])
    with pytest.raises(ModelIntegrityError):
        load_model(tmp_model_path)


def test_missing_card_raises_model_error(tmp_model_path: Path) -> None:
    card_path(tmp_model_path).unlink()
    with pytest.raises(ModelError, match="no card"):
        load_model(tmp_model_path)


def test_missing_card_is_allowed_without_verify(small_model: Model, tmp_model_path: Path) -> None:
    card_path(tmp_model_path).unlink()
    assert load_model(tmp_model_path, verify=False).settings == small_model.settings


@pytest.mark.parametrize("card", ["{not json", "[1, 2]", '{"sha256": "0", "learned": {"spam": 9}}'])
def test_without_verify_a_card_not_its_own_is_no_error_and_not_kept(
    small_model: Model, tmp_model_path: Path, card: str
) -> None:
    # An unreadable card still stopped the load that asked for no check; another file's card
    # was kept, and saved again as this model's.
    card_path(tmp_model_path).write_text(card, encoding="utf-8")
    loaded = load_model(tmp_model_path, verify=False)
    assert loaded.settings == small_model.settings
    assert loaded.card == {}


def test_without_verify_its_own_card_is_kept(tmp_model_path: Path) -> None:
    assert load_model(tmp_model_path, verify=False).card["sha256"] == _sha256(tmp_model_path)


def test_unreadable_card_raises_model_error(tmp_model_path: Path) -> None:
    card_path(tmp_model_path).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="card"):
        load_model(tmp_model_path)


def test_card_that_is_not_an_object_raises_model_error(tmp_model_path: Path) -> None:
    card_path(tmp_model_path).write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ModelError, match="not a JSON object"):
        load_model(tmp_model_path)


def test_missing_file_raises_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no model file"):
        load_model(tmp_path / "absent.spamclf")


def test_non_model_file_with_matching_card_raises_model_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.spamclf"
    path.write_bytes(b"just some text, not a model")
    card_path(path).write_text(json.dumps({"sha256": _sha256(path)}), encoding="utf-8")
    with pytest.raises(ModelError, match="not a spamclf model"):
        load_model(path)


def test_payload_really_writes_a_file_when_unpickled(tmp_path: Path) -> None:
    """Check the hostile payload is live, so the refusal tests below mean something."""
    canary = tmp_path / "canary"
    pickle.loads(pickle.dumps(_WritesFile(canary))).close()
    assert canary.exists()


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_pickled_model_file_is_refused_and_never_unpickled(tmp_path: Path, dump: str) -> None:
    canary = tmp_path / "pwned"
    path = tmp_path / "evil.spamclf"
    payload = {"weights": _WritesFile(canary)}
    if dump == "pickle":
        path.write_bytes(pickle.dumps(payload))
    else:
        joblib.dump(payload, path)
    card_path(path).write_text(json.dumps({"sha256": _sha256(path)}), encoding="utf-8")
    with pytest.raises(ModelError, match="never unpickles"):
        load_model(path)
    assert not canary.exists()


def test_pickled_model_file_is_refused_without_verify(tmp_path: Path) -> None:
    canary = tmp_path / "pwned"
    path = tmp_path / "evil.spamclf"
    path.write_bytes(pickle.dumps(_WritesFile(canary)))
    with pytest.raises(ModelError):
        load_model(path, verify=False)
    assert not canary.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"format_version": FORMAT_VERSION + 1},
        {"format_version": None},
        {"feature_schema": "spamclf-features-0"},
        {"feature_schema": None},
    ],
)
def test_incompatible_header_raises_version_error(
    tmp_model_path: Path, changes: dict[str, object]
) -> None:
    rewrite_model_header(tmp_model_path, **changes)
    with pytest.raises(ModelVersionError, match="retrain"):
        load_model(tmp_model_path)


# A settings field this version does not know (as a newer spamclf would write), settings that are
# missing or of the wrong type, and weights whose size disagrees with n_features all mean the
# model cannot be loaded: ModelError, which the CLI turns into exit code 4.
@pytest.mark.parametrize(
    "settings",
    [{"n_features": 2**20, "new_option": True}, None, {"limits": "none"}, {"n_features": 16}],
    ids=["unknown-field", "null", "bad-limits", "weights-shape"],
)
def test_load_model_with_malformed_settings_raises_model_error(
    tmp_model_path: Path, settings: object
) -> None:
    rewrite_model_header(tmp_model_path, settings=settings)
    with pytest.raises(ModelError):
        load_model(tmp_model_path)


def test_rewritten_header_with_same_versions_still_loads(
    small_model: Model, tmp_model_path: Path
) -> None:
    """Control for the tests above: the rewrite itself does not break the file."""
    rewrite_model_header(tmp_model_path)
    assert load_model(tmp_model_path).settings == small_model.settings


def test_errors_form_a_hierarchy() -> None:
    assert issubclass(ModelIntegrityError, ModelError)
    assert issubclass(ModelVersionError, ModelError)
    assert issubclass(ModelError, SpamclfError)


def test_save_is_atomic_when_the_write_fails(
    small_model: Model, tmp_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_before = tmp_model_path.read_bytes()
    card_before = card_path(tmp_model_path).read_bytes()
    files_before = sorted(p.name for p in tmp_model_path.parent.iterdir())

    def broken_savez(file: io.BufferedWriter, **arrays: np.ndarray) -> None:
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", broken_savez)
    with pytest.raises(ModelError, match=r"cannot save a model at .*: disk full"):
        small_model.save(tmp_model_path)
    assert tmp_model_path.read_bytes() == model_before
    assert card_path(tmp_model_path).read_bytes() == card_before
    assert sorted(p.name for p in tmp_model_path.parent.iterdir()) == files_before
    monkeypatch.undo()
    assert load_model(tmp_model_path).settings == small_model.settings


def test_save_where_no_file_can_go_raises_model_error_and_leaves_nothing(
    small_model: Model, tmp_path: Path
) -> None:
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-file").write_bytes(b"x")
    for target in (tmp_path / "a-folder", tmp_path / "a-file" / "m.spamclf"):
        with pytest.raises(ModelError, match="cannot save a model at"):
            small_model.save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "a-folder"]
    assert list((tmp_path / "a-folder").iterdir()) == []


def test_save_overwrites_an_existing_model(
    small_model: Model, tmp_model_path: Path, fixture_bytes: Loader
) -> None:
    changed = copy.deepcopy(small_model)
    changed.learn(fixture_bytes("english_ham"), "spam")
    changed.save(tmp_model_path)
    loaded = load_model(tmp_model_path)
    data = fixture_bytes("english_ham")
    assert loaded.classify(data).score == pytest.approx(changed.classify(data).score, abs=1e-6)
    assert loaded.card["learned"] == {"spam": 1, "ham": 0}


_SAVE_AND_HANG = """
import sys, time
import numpy as np
from spamclf.persist import load_model

model = load_model(sys.argv[1])

def slow_savez(file, **arrays):
    file.write(b"PK\\x03\\x04 the first half of a zip")
    file.flush()
    print("writing", flush=True)
    time.sleep(60)

np.savez_compressed = slow_savez
model.save(sys.argv[1])
"""


def test_save_killed_mid_write_leaves_the_old_model_intact(
    small_model: Model, tmp_model_path: Path
) -> None:
    model_before = tmp_model_path.read_bytes()
    card_before = card_path(tmp_model_path).read_bytes()
    with subprocess.Popen(
        [sys.executable, "-c", _SAVE_AND_HANG, str(tmp_model_path)],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "writing"
            process.send_signal(signal.SIGKILL)  # no cleanup handler runs
        finally:
            process.kill()
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert tmp_model_path.read_bytes() == model_before
    assert card_path(tmp_model_path).read_bytes() == card_before
    assert load_model(tmp_model_path).settings == small_model.settings
    # What a kill leaves behind is a hidden temporary file, never a half-written model.
    stray = [p.name for p in tmp_model_path.parent.iterdir() if p.name.startswith(".")]
    assert all(name.startswith(f".{tmp_model_path.name}.") for name in stray)
    assert stray


def test_save_snapshots_weights_learned_concurrently(
    small_model: Model, tmp_path: Path, fixture_bytes: Loader
) -> None:
    model = copy.deepcopy(small_model)
    path = tmp_path / "m.spamclf"
    stop = threading.Event()

    def keep_learning() -> None:
        label = "spam"
        while not stop.is_set():
            model.learn(fixture_bytes("english_ham"), label)
            label = "ham" if label == "spam" else "spam"

    learner = threading.Thread(target=keep_learning)
    learner.start()
    try:
        for _ in range(3):
            model.save(path)
            load_model(path)  # the checksum and the arrays agree every time
    finally:
        stop.set()
        learner.join()


def test_spamclf_has_no_unpickling_path() -> None:
    """No code in the package can unpickle a file: there is no "trust" switch to get wrong.
    (Process pools pickle models between processes of one program, never from files.)"""
    package = Path(spamclf.__file__).parent
    forbidden = ("pickle.load", "joblib.load", "allow_pickle=True", "cloudpickle", "dill")
    for source in package.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert not [word for word in forbidden if word in text], source


def test_models_saved_before_the_newer_caps_load_with_their_defaults(
    small_model: Model, tmp_model_path: Path
) -> None:
    """The bundled model's settings hold only the first five caps: the rest take defaults."""
    old_limits = {
        "max_message_bytes": 1_000_000,
        "max_parts": 100,
        "max_part_bytes": 500_000,
        "max_text_chars": 100_000,
        "max_headers": 500,
    }
    settings = {**small_model.settings.as_dict(), "limits": old_limits}
    rewrite_model_header(tmp_model_path, settings=settings)
    assert load_model(tmp_model_path).settings.limits == Limits()


def test_bundled_model_loads() -> None:
    model = load_model(spamclf.api.default_model_path())
    assert model.settings.limits.max_depth == Limits().max_depth


def _rewrite_arrays(path: Path, **changes: object) -> None:
    """Rewrite a saved model's arrays (the header as raw JSON text too), then fix the card's
    sha256: a file crafted to pass the checksum."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    for name, value in changes.items():
        arrays[name] = (
            np.frombuffer(value.encode(), dtype=np.uint8) if isinstance(value, str) else value
        )
    with path.open("wb") as f:
        np.savez(f, **arrays)
    card = json.loads(card_path(path).read_text(encoding="utf-8"))
    card["sha256"] = _sha256(path)
    card_path(path).write_text(json.dumps(card), encoding="utf-8")


def test_a_newer_format_laid_out_otherwise_raises_version_error(tmp_model_path: Path) -> None:
    # Its versions were read after its arrays: a renamed array made it "not a spamclf model".
    with np.load(tmp_model_path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    header = json.loads(bytes(arrays["header"]).decode("utf-8"))
    header["format_version"] = FORMAT_VERSION + 1
    arrays["header"] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    arrays["weights_by_block"] = arrays.pop("weights")
    with tmp_model_path.open("wb") as f:
        np.savez(f, **arrays)
    card = json.loads(card_path(tmp_model_path).read_text(encoding="utf-8"))
    card["sha256"] = _sha256(tmp_model_path)
    card_path(tmp_model_path).write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ModelVersionError, match="retrain"):
        load_model(tmp_model_path)


@pytest.mark.parametrize("header", ["[1, 2]", '"abc"', "null"])
def test_header_that_is_not_an_object_raises_model_error(tmp_model_path: Path, header: str) -> None:
    _rewrite_arrays(tmp_model_path, header=header)
    with pytest.raises(ModelError, match="header is not a JSON object"):
        load_model(tmp_model_path)


def _header_with(path: Path, **changes: object) -> str:
    """The JSON text of the saved model's header with ``changes`` made."""
    with np.load(path, allow_pickle=False) as data:
        header = json.loads(bytes(data["header"]).decode("utf-8"))
    header.update(changes)
    return json.dumps(header)


# Each escaped as a bare TypeError, OverflowError or RecursionError.
@pytest.mark.parametrize(
    "change",
    [
        {"calibration": np.ones((2, 2))},
        {"intercept": np.ones((1, 3))},
        {"header": '{"a": ' * 100_000},
        {"script_counts": {"latin": [1e999, 1]}},
    ],
    ids=["calibration-2d", "intercept-2d", "header-deep", "count-infinite"],
)
def test_malformed_arrays_and_header_raise_model_error(
    tmp_model_path: Path, change: dict[str, object]
) -> None:
    if "script_counts" in change:
        change = {"header": _header_with(tmp_model_path, **change)}
    _rewrite_arrays(tmp_model_path, **change)
    with pytest.raises(ModelError):
        load_model(tmp_model_path)


def _damage_zip(data: bytes, damage: str) -> bytes:
    """A saved model with its first archive member damaged in one way."""
    b = bytearray(data)
    central = b.index(b"PK\x01\x02")  # the member's entry in the archive's directory
    local = b.index(b"PK\x03\x04")  # its own header, which its compressed data follows
    if damage == "method":
        b[central + 10 : central + 12] = (99).to_bytes(2, "little")
    elif damage == "version":
        b[central + 6] = 200
    elif damage == "encrypted":
        b[central + 8] |= 1
    else:  # its compressed data
        start = local + 30 + int.from_bytes(b[local + 26 : local + 28], "little")
        start += int.from_bytes(b[local + 28 : local + 30], "little")
        for k in range(8):
            b[start + k] ^= 0xFF
    return bytes(b)


@pytest.mark.parametrize("damage", ["method", "version", "encrypted", "data"])
def test_a_damaged_archive_raises_model_error(tmp_path: Path, damage: str) -> None:
    # These escaped as NotImplementedError, RuntimeError or zlib.error (with verify=False, or
    # a card written for the damaged file), and NumPy left the file open.
    path = tmp_path / "m.spamclf"
    Model.empty(ModelSettings(n_features=64)).save(path)
    path.write_bytes(_damage_zip(path.read_bytes(), damage))
    with pytest.raises(ModelError, match="not a spamclf model"):
        load_model(path, verify=False)


def test_a_card_nested_thousands_deep_raises_model_error(tmp_model_path: Path) -> None:
    card_path(tmp_model_path).write_text("[" * 100_000, encoding="utf-8")
    with pytest.raises(ModelError, match="cannot read the card"):
        load_model(tmp_model_path)


def test_weights_that_are_not_finite_raise_model_error(
    small_model: Model, tmp_model_path: Path
) -> None:
    # NaN weights scored every message 0.0 ("ham") without a word.
    weights = small_model.weights.astype(np.float32)
    weights[7] = np.nan
    _rewrite_arrays(tmp_model_path, weights=weights)
    with pytest.raises(ModelError, match="not all finite"):
        load_model(tmp_model_path)


def test_learning_variances_that_are_not_finite_raise_model_error(
    small_model: Model, tmp_model_path: Path
) -> None:
    # One learn() copied a NaN variance into the weights: every message then scored 0.0.
    variances = np.ones(small_model.settings.n_features + 1, dtype=np.float32)
    variances[3] = np.nan
    _rewrite_arrays(tmp_model_path, variances=variances)
    with pytest.raises(ModelError, match="variances are not all finite"):
        load_model(tmp_model_path)


def test_a_bare_numpy_array_file_raises_model_error(tmp_path: Path) -> None:
    path = tmp_path / "weights.spamclf"
    with path.open("wb") as f:
        np.save(f, np.zeros(4))
    with pytest.raises(ModelError, match="not a spamclf model"):
        load_model(path, verify=False)


@pytest.mark.parametrize("target", [".", "/", ""])
def test_save_where_the_path_names_no_file_raises_model_error(
    small_model: Model, target: str
) -> None:
    with pytest.raises(ModelError, match="no file name"):
        small_model.save(target)


@pytest.mark.parametrize("path", [None, 123])
def test_load_model_of_no_path_raises_model_error(path: object) -> None:
    with pytest.raises(ModelError, match="takes a path"):
        load_model(path)  # type: ignore[arg-type]


def test_empty_model_file_raises_model_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.spamclf"
    path.write_bytes(b"")
    card_path(path).write_text(json.dumps({"sha256": _sha256(path)}), encoding="utf-8")
    for verify in (True, False):
        with pytest.raises(ModelError, match="not a spamclf model"):
            load_model(path, verify=verify)


def test_save_with_a_folder_where_the_card_goes_leaves_the_old_pair(
    small_model: Model, tmp_model_path: Path
) -> None:
    # The model's rename would have gone through and the card's failed: a model whose card
    # belongs to another. Now nothing is replaced.
    model_before = tmp_model_path.read_bytes()
    card_path(tmp_model_path).unlink()
    card_path(tmp_model_path).mkdir()
    with pytest.raises(ModelError, match="cannot save a model at"):
        small_model.with_settings(spam_cutoff=0.95).save(tmp_model_path)
    assert tmp_model_path.read_bytes() == model_before


def test_check_can_save_creates_no_folders(tmp_path: Path) -> None:
    # It made the folders -o names as it checked them: a check that fails later (a typo in
    # the corpus) left them behind. save() makes them (test_save_accepts_str_paths_...).
    check_can_save(tmp_path / "new" / "folder" / "m.spamclf")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("target", ["a-file/m.spamclf", "a-file/new/m.spamclf", "a-folder"])
def test_check_can_save_refuses_where_no_model_can_go(tmp_path: Path, target: str) -> None:
    (tmp_path / "a-file").write_bytes(b"x")
    (tmp_path / "a-folder").mkdir()
    with pytest.raises(ModelError, match="cannot save a model at"):
        check_can_save(tmp_path / target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "a-folder"]


def test_check_can_save_asks_the_nearest_folder_that_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tests run as root, for whom every folder is writable: the question is watched.
    asked = []

    def no_access(path: Path, mode: int, **kwargs: object) -> bool:
        asked.append(Path(path))
        return False

    monkeypatch.setattr(os, "access", no_access)
    with pytest.raises(ModelError, match="no permission to write in"):
        check_can_save(tmp_path / "new" / "folder" / "m.spamclf")
    assert asked == [tmp_path]
    assert list(tmp_path.iterdir()) == []


def _declare(path: Path, name: str, shape: tuple[int, ...], descr: str = "<f4") -> None:
    """Rewrite the model at ``path`` so that its array ``name`` declares ``shape`` in its .npy
    header but holds 16 bytes, as a hostile file would; the card is made to match."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    npy = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(npy, header)  # type: ignore[no-untyped-call]
    members[f"{name}.npy"] = npy.getvalue() + bytes(16)
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    card_path(path).write_text(json.dumps({"sha256": _sha256(path)}), encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "shape", "descr"),
    [
        ("weights", (2**28,), "<f4"),
        ("weights", (2**40,), "<f4"),
        ("weights", (64, 2**22), "<f4"),
        ("weights", (64,), "V1000000000"),
        ("variances", (2**28,), "<f8"),
        ("header", (2**30,), "|u1"),
    ],
    ids=["1GB", "4TB", "2d", "record", "variances", "header"],
)
def test_an_array_declaring_more_than_its_settings_is_refused_before_it_is_read(
    tmp_path: Path, name: str, shape: tuple[int, ...], descr: str
) -> None:
    # NumPy made room for the declared shape before reading (1 GB; a bare MemoryError at
    # 4 TB), and the shape was checked only after.
    path = tmp_path / "m.spamclf"
    Model.empty(ModelSettings(n_features=64)).save(path)
    _declare(path, name, shape, descr)
    assert _peak_bytes_refusing(path, match=f"its {name} holds") < 10_000_000


def test_a_model_declaring_billions_of_features_is_refused_before_its_weights_are_read(
    tmp_path: Path,
) -> None:
    # Weights of the size the settings declare: compressed zeros fill what they declare.
    path = tmp_path / "m.spamclf"
    Model.empty(ModelSettings(n_features=64)).save(path)
    rewrite_model_header(
        path, settings={**ModelSettings(n_features=64).as_dict(), "n_features": 2**32}
    )
    _declare(path, "weights", (2**32,))
    assert _peak_bytes_refusing(path, match="n_features must be at most") < 10_000_000


def _peak_bytes_refusing(path: Path, match: str) -> int:
    """The most memory load_model held while it refused ``path`` with ModelError(``match``)."""
    tracemalloc.start()
    try:
        with pytest.raises(ModelError, match=match):
            load_model(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_card_larger_than_any_card_is_refused(
    tmp_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(persist, "_MAX_CARD_BYTES", 100)
    with pytest.raises(ModelError, match="larger than 100 bytes"):
        load_model(tmp_model_path)


@pytest.mark.parametrize("kind", ["/dev/zero", "named pipe", "folder"])
def test_a_card_that_is_no_plain_file_is_refused_at_once(tmp_model_path: Path, kind: str) -> None:
    # A card linked to /dev/zero was read until memory ran out; a named pipe waited for ever.
    card = card_path(tmp_model_path)
    card.unlink()
    _make_no_plain_file(card, kind)
    with pytest.raises(ModelError, match=r"cannot read the card .* no plain file"):
        load_model(tmp_model_path)
    assert load_model(tmp_model_path, verify=False).card == {}


@pytest.mark.parametrize("kind", ["/dev/zero", "named pipe", "folder"])
def test_a_model_path_that_is_no_plain_file_is_no_model_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "m.spamclf"
    _make_no_plain_file(path, kind)
    with pytest.raises(ModelError, match="no model file at"):
        load_model(path, verify=False)


def _make_no_plain_file(path: Path, kind: str) -> None:
    """Put at ``path`` a link to /dev/zero, a named pipe or a folder, as ``kind`` says."""
    if kind == "/dev/zero":
        path.symlink_to("/dev/zero")
    elif kind == "named pipe":
        os.mkfifo(path)
    else:
        path.mkdir()


def test_save_writes_no_card_larger_than_load_reads(
    small_model: Model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(persist, "_MAX_CARD_BYTES", 1000)
    with pytest.raises(ModelError, match="more than"):
        small_model.save(tmp_path / "m.spamclf")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("dangling", [False, True], ids=["link", "dangling-link"])
def test_save_through_a_symbolic_link_replaces_the_model_it_points_to(
    small_model: Model, tmp_path: Path, dangling: bool
) -> None:
    # The link itself was replaced by a plain file, and the model it pointed to kept.
    (tmp_path / "releases").mkdir()
    target = tmp_path / "releases" / "v2.spamclf"
    if not dangling:
        Model.empty(ModelSettings(n_features=64)).save(target)
    link = tmp_path / "current.spamclf"
    link.symlink_to(Path("releases") / "v2.spamclf")
    small_model.save(link)
    assert link.is_symlink()
    assert card_path(link) == card_path(target) == target.with_name("v2.spamclf.card.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current.spamclf", "releases"]
    assert load_model(target).settings == small_model.settings
    assert load_model(link).settings == small_model.settings


def test_moving_a_link_moves_model_and_card_at_once(small_model: Model, tmp_path: Path) -> None:
    old, new = tmp_path / "v1.spamclf", tmp_path / "v2.spamclf"
    Model.empty(ModelSettings(n_features=64)).save(old)
    small_model.save(new)
    link = tmp_path / "current.spamclf"
    link.symlink_to(old.name)
    assert load_model(link).settings.n_features == 64
    link.unlink()
    link.symlink_to(new.name)
    assert load_model(link).settings == small_model.settings


def test_a_load_between_the_two_renames_of_a_save_waits_for_the_whole_new_pair(
    small_model: Model, tmp_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server reloading on SIGHUP while another process saved opened the new model with the
    # old card between the save's two renames: a spurious ModelIntegrityError. The load is
    # started there, and the save goes on once the load has asked for the folder's lock (or,
    # with no lock, has finished).
    fcntl = pytest.importorskip("fcntl")
    new = small_model.with_settings(spam_cutoff=0.95)
    asked = threading.Event()
    results: list[object] = []
    real_flock, real_replace = fcntl.flock, os.replace

    def flock(fd: int, operation: int) -> None:
        if operation == fcntl.LOCK_SH:
            asked.set()
        real_flock(fd, operation)

    def load() -> None:
        try:
            results.append(load_model(tmp_model_path))
        except ModelError as exc:
            results.append(exc)
        finally:
            asked.set()

    def replace(source: Path, target: Path) -> None:
        real_replace(source, target)
        if Path(target) == tmp_model_path:  # the new model is in place, its card not yet
            loader.start()
            assert asked.wait(timeout=30)

    loader = threading.Thread(target=load)
    monkeypatch.setattr(fcntl, "flock", flock)
    monkeypatch.setattr(os, "replace", replace)
    new.save(tmp_model_path)
    loader.join(timeout=30)
    [loaded] = results
    assert isinstance(loaded, Model), loaded
    assert loaded.settings == new.settings


def test_a_save_while_a_load_reads_leaves_the_load_the_pair_it_opened(
    small_model: Model, tmp_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The load checked the file's sha256, then opened it again to read: a save between the
    # two gave the load a model that was not the one its card described.
    old_sha256 = _sha256(tmp_model_path)
    new = small_model.with_settings(spam_cutoff=0.95)
    real_sha256 = persist._sha256

    def save_then_hash(f: io.BufferedReader) -> str:
        monkeypatch.setattr(persist, "_sha256", real_sha256)  # save() hashes too
        new.save(tmp_model_path)
        return real_sha256(f)

    monkeypatch.setattr(persist, "_sha256", save_then_hash)
    loaded = load_model(tmp_model_path)
    assert loaded.settings == small_model.settings
    assert loaded.card["sha256"] == old_sha256
    assert load_model(tmp_model_path).settings == new.settings


def test_save_keeps_the_permissions_of_the_files_it_replaces(
    small_model: Model, tmp_model_path: Path
) -> None:
    # Both were made 0644: a private model became readable by all at its next save.
    tmp_model_path.chmod(0o600)
    card_path(tmp_model_path).chmod(0o640)
    small_model.save(tmp_model_path)
    assert stat.S_IMODE(tmp_model_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(card_path(tmp_model_path).stat().st_mode) == 0o640


def test_a_new_model_follows_the_umask(small_model: Model, tmp_path: Path) -> None:
    umask = os.umask(0o077)
    try:
        small_model.save(tmp_path / "m.spamclf")
    finally:
        os.umask(umask)
    for path in (tmp_path / "m.spamclf", card_path(tmp_path / "m.spamclf")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_a_model_root_saves_for_another_user_stays_theirs(
    small_model: Model, tmp_model_path: Path
) -> None:
    # Root retraining the model a server's user reads made it root's (and, at 0600, unreadable
    # to that user).
    for path in (tmp_model_path, card_path(tmp_model_path)):
        os.chown(path, 4321, 4322)
    small_model.save(tmp_model_path)
    for path in (tmp_model_path, card_path(tmp_model_path)):
        assert (path.stat().st_uid, path.stat().st_gid) == (4321, 4322)


def test_save_syncs_the_folders_it_makes_into_their_parents(
    small_model: Model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the model's own folder was synced: a power cut could take away the folders the
    # save had made, and the model in them.
    synced = set()
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.add(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    path = tmp_path / "new" / "folder" / "m.spamclf"
    small_model.save(path)
    folders = (tmp_path, tmp_path / "new", tmp_path / "new" / "folder")
    assert {folder.stat().st_ino for folder in folders} <= synced


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_process_forked_during_a_save_does_not_keep_the_folder_locked(
    small_model: Model, tmp_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The child's copy of the folder's descriptor kept the lock held after the save closed
    # its own, and every later save in that folder waited for the child to end.
    fcntl = pytest.importorskip("fcntl")
    real_replace = os.replace
    read_end, write_end = os.pipe()
    children = []

    def replace_and_fork(source: Path, target: Path) -> None:
        real_replace(source, target)
        if not children:
            pid = os.fork()
            if pid == 0:  # the child waits, holding what it inherited, until told to end
                os.close(write_end)
                os.read(read_end, 1)
                os._exit(0)
            children.append(pid)

    monkeypatch.setattr(os, "replace", replace_and_fork)
    try:
        small_model.save(tmp_model_path)
        fd = os.open(tmp_model_path.parent, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError while held
        finally:
            os.close(fd)
    finally:
        os.close(write_end)
        os.close(read_end)
        for pid in children:
            os.waitpid(pid, 0)


@pytest.mark.parametrize(
    "learned",
    [
        "3",
        [],
        {"spam": "3", "ham": 0},
        {"spam": 1},
        {"spam": True, "ham": 0},
        {"spam": -1, "ham": 0},
    ],
)
def test_a_card_whose_learned_counts_are_not_counts_is_refused(
    tmp_model_path: Path, learned: object
) -> None:
    # learn() adds to them after its step: a count of "3" raised a bare TypeError there, with
    # the weights already moved.
    card = json.loads(card_path(tmp_model_path).read_text(encoding="utf-8"))
    card["learned"] = learned
    card_path(tmp_model_path).write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ModelError, match="learned counts"):
        load_model(tmp_model_path)
    assert load_model(tmp_model_path, verify=False).card == {}


@pytest.mark.parametrize("path", ["m\0.spamclf", b"m\0.spamclf"], ids=["str", "bytes"])
def test_a_path_holding_a_nul_raises_model_error(
    small_model: Model, tmp_path: Path, path: str | bytes
) -> None:
    # load_model raised a bare ValueError from os.open, and check_can_save passed the path.
    for call in (load_model, check_can_save, card_path, lambda p: small_model.save(p)):
        with pytest.raises(ModelError, match="holds a NUL"):
            call(path)
