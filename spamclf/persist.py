"""Saving and loading models: plain arrays plus a JSON card, checked before use.

The file format is NumPy's ``.npz`` (a zip of ``.npy`` arrays) read with ``allow_pickle=False``,
and the settings are JSON. Unlike a joblib or pickle file, loading it cannot run code, so a model
downloaded from anywhere is safe to open; a pickle handed in by mistake is refused with a clear
error. Beside each model ``PATH`` lies ``PATH.card.json``: versions, feature schema, training
data, metrics and the SHA-256 of the model file, which :func:`load_model` verifies. A save
writes both in full and renames them into place under their folder's lock, so that a load in
another process sees one save's pair, never the new model with the old card.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import lzma
import os
import secrets
import stat
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

try:
    import fcntl
except ImportError:  # Windows, which has no flock, and refuses to replace a file held open
    fcntl = None  # type: ignore[assignment]

from spamclf.corpora import LABELS
from spamclf.errors import ModelError, ModelIntegrityError, ModelVersionError, SpamclfError
from spamclf.model import Model, ModelSettings

__all__ = [
    "FEATURE_SCHEMA",
    "FORMAT_VERSION",
    "card_path",
    "check_can_save",
    "load_model",
    "save_model",
]

# Bump FORMAT_VERSION when the file layout changes, FEATURE_SCHEMA when tokens or hashing
# change meaning: a model trained on other features would silently score nonsense.
FORMAT_VERSION = 1
FEATURE_SCHEMA = "spamclf-features-15"


# What load_model and save_model take as a path: as the os module does, bytes too.
PathArg = str | bytes | os.PathLike  # type: ignore[type-arg]


def _as_path(path: PathArg, doing: str) -> Path:
    """``path`` as a :class:`Path`; :class:`ModelError` for what is no path. Path() alone took
    no bytes, nor an ``os.PathLike`` whose ``__fspath__`` gives bytes: a bare TypeError."""
    try:
        text = os.fsdecode(path)
    except TypeError as exc:  # None, a number, a PathLike giving neither str nor bytes
        raise ModelError(
            f"{doing} takes a path to a model file, got {type(path).__name__}"
        ) from exc
    # The os module refuses a path holding a NUL with a bare ValueError: load_model let it out,
    # and check_can_save passed a path on which save_model then raised it.
    if "\0" in text:
        raise ModelError(f"{doing} takes a path to a model file, got {text!r}: it holds a NUL")
    return Path(text)


def card_path(path: PathArg) -> Path:
    """Where the card of the model at ``path`` lies: beside it, named after it. A ``path`` that
    is a symbolic link names the model it points to, and the card lies beside that one."""
    path = _model_file(_as_path(path, "card_path"))
    if not path.name:  # ".", "/", "": Path.with_name raised a bare ValueError
        raise ModelError(f"cannot save a model at {str(path)!r}: that is no file name")
    return path.with_name(path.name + ".card.json")


def _model_file(path: Path) -> Path:
    """The file ``path`` names, through a symbolic link (or a chain of them). save_model
    replaces that file, as editors and ``install`` do: replacing the link itself left it a
    plain file, and the model it pointed to as it was. The card goes beside that file, so
    that moving a link (``ln -sfn v2.spamclf current.spamclf``) moves model and card at once."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def save_model(model: Model, path: PathArg) -> None:
    """Write ``path`` and its card atomically: a crash mid-write leaves the old files intact."""
    path = _as_path(path, "save_model")
    target = _model_file(path)
    # One consistent state, even while another thread learns.
    weights, intercept, calibration, card, variances, script_counts = model.parameters()
    header = {
        "format_version": FORMAT_VERSION,
        "feature_schema": FEATURE_SCHEMA,
        "settings": model.settings.as_dict(),
    }
    if script_counts is not None:
        header["script_counts"] = script_counts
    arrays = {
        "weights": weights.astype(np.float32),
        "intercept": np.array([intercept]),
        "calibration": np.array(calibration),
        "header": np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8),
    }
    if variances is not None:  # a model that has learned online goes on where it stopped
        arrays["variances"] = variances.astype(np.float32)
    card.update(header)
    card["versions"] = _versions()
    # Both files are written in full beside their targets first, then swapped in by two
    # renames back to back, under the folder's lock (see _locked): a crash or kill before that
    # leaves the old model and card as they were (and at worst a stray ".NAME.*" temporary
    # file), and no load opens the new model with the old card. A write that fails (no such
    # folder, no permission, a full disk, a folder where the file should go) removes its
    # temporary files and raises ModelError.
    temporary: list[Path] = []
    try:
        # Checked before either rename: a folder where the card goes would fail the second
        # rename after the first had replaced the model, leaving a model without its card.
        _refuse_folders(target)
        model_tmp = _write_temp(target, lambda f: np.savez_compressed(f, **arrays))  # type: ignore[arg-type]
        temporary.append(model_tmp)
        with model_tmp.open("rb") as f:
            card["sha256"] = _sha256(f)
        card["size_bytes"] = model_tmp.stat().st_size
        try:
            text = json.dumps(
                card, indent=2, ensure_ascii=False, sort_keys=True, default=_card_value
            )
        except (TypeError, ValueError) as exc:  # a set, an object, a loop, keys of mixed types
            raise ModelError(
                f"cannot save a model at {str(path)!r}: its card holds what JSON cannot write "
                f"({exc})"
            ) from exc
        text += "\n"
        # A corpus path that is not UTF-8 reaches the card's description as lone surrogates;
        # backslashreplace writes each as JSON's \\udcXX escape, which loads back as it was
        # (strict UTF-8 failed there, after all the training, and no model was written).
        encoded = text.encode("utf-8", "backslashreplace")
        if len(encoded) > _MAX_CARD_BYTES:
            raise ModelError(
                f"cannot save a model at {str(path)!r}: its card takes {len(encoded):,} bytes, "
                f"more than the {_MAX_CARD_BYTES >> 20} MB that load_model reads"
            )
        card_tmp = _write_temp(card_path(path), lambda f: f.write(encoded))
        temporary.append(card_tmp)
        with _locked(target.parent, shared=False):
            os.replace(model_tmp, target)
            os.replace(card_tmp, card_path(path))
            temporary.clear()
    except OSError as exc:
        raise ModelError(f"cannot save a model at {str(path)!r}: {exc.strerror or exc}") from exc
    finally:
        for tmp in temporary:
            tmp.unlink(missing_ok=True)
    _fsync_folder(target.parent)


def _card_value(value: object) -> object:
    """A card value that JSON cannot write, in a form it can: a NumPy number (a count or a
    metric computed with NumPy) as a number, an array as a list, a path
    (``description=Path(corpus)``) as text. Each failed ``save()`` with a bare TypeError,
    after all the training."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fsdecode(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def check_can_save(path: PathArg) -> None:
    """Raise :class:`ModelError` now if :func:`save_model` could not write at ``path``: for a
    server that saves after every lesson, finding out at the first lesson is too late.

    It changes nothing on disk: the folders that :func:`save_model` would create are left to
    it, and the nearest folder that exists must be one this process can write in."""
    path = _as_path(path, "check_can_save")
    try:
        _refuse_folders(_model_file(path))
        folder = _model_file(path).parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
    except OSError as exc:
        raise ModelError(f"cannot save a model at {str(path)!r}: {exc.strerror or exc}") from exc
    if not folder.is_dir():
        raise ModelError(f"cannot save a model at {str(path)!r}: {str(folder)!r} is no folder")
    # Effective ids where the platform has them: a set-user-id program writes as its owner.
    effective = os.access in os.supports_effective_ids
    if not os.access(folder, os.W_OK | os.X_OK, effective_ids=effective):
        raise ModelError(
            f"cannot save a model at {str(path)!r}: no permission to write in {str(folder)!r}"
        )


def _refuse_folders(path: Path) -> None:
    """Raise ``IsADirectoryError`` if a folder stands where the model or its card would go."""
    for target in (path, card_path(path)):
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, "a folder is in the way", str(target))


def load_model(path: PathArg, *, verify: bool = True) -> Model:
    """Load a model saved by :func:`save_model`.

    With ``verify`` (the default) the file must match the SHA-256 in its card. With
    ``verify=False`` the card is not needed: a card that is missing, unreadable or written for
    another file is no error, and the model then carries an empty ``card`` (another file's
    training counts, saved again as this model's, would describe what it is not). Either way
    the file itself is checked as a model. Raises :class:`ModelError` (missing or not a model),
    :class:`ModelIntegrityError` (checksum) or :class:`ModelVersionError` (format or feature
    schema from another spamclf version).
    """
    path = _as_path(path, "load_model")
    with contextlib.ExitStack() as files:
        # The model and its card are opened as one pair, under the folder's lock (see _locked),
        # and read from what was opened: a save's renames change neither after that.
        with _locked(_model_file(path).parent, shared=True):
            try:
                model_file = _open_plain(path, files)
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
                raise ModelError(f"no model file at {str(path)!r}") from exc
            except OSError as exc:
                raise ModelError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
            try:
                card_file: BinaryIO | OSError = _open_plain(card_path(path), files)
            except OSError as exc:  # told by _read_card, if the card is wanted
                card_file = exc
        try:
            card = _read_card(card_file, path)
        except ModelError:
            if verify:
                raise
            card = {}
        try:
            digest = _sha256(model_file)
        except OSError as exc:
            raise ModelError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
        if card.get("sha256") != digest:
            if verify:
                raise ModelIntegrityError(
                    f"{str(path)!r} does not match the sha256 in {card_path(path).name}: the "
                    "file was altered or truncated (load_model(..., verify=False) skips the check)"
                )
            card = {}
        model_file.seek(0)
        return _read_model(model_file, path, card)


def _open_plain(path: Path, files: contextlib.ExitStack) -> BinaryIO:
    """``path`` opened to read, if it is a plain file. Opened without waiting: a named pipe
    where the card goes waited for a writer for ever (with the folder locked, now)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _O_BINARY
    fd = os.open(path, flags)
    files.callback(os.close, fd)
    # A folder, a pipe or a device (/dev/zero, read on for ever) holds no model or card.
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        raise IsADirectoryError(errno.EISDIR, "it is no plain file", str(path))
    return os.fdopen(fd, "rb", closefd=False)


def _read_model(f: BinaryIO, path: Path, card: dict[str, Any]) -> Model:
    """The model in the open file ``f``, with ``card``."""
    try:
        # The archive is read as a zip of .npy arrays, not by np.load, so each array's size is
        # checked before it is read (_array); a pickle or a bare .npy array is no zip.
        with zipfile.ZipFile(f) as archive:
            header = json.loads(bytes(_array(archive, "header", None)).decode("utf-8"))
            if not isinstance(header, dict):
                raise ValueError("its header is not a JSON object")
            # The versions before the arrays: a newer format may lay them out otherwise, and
            # its file is then from a newer spamclf, not "not a spamclf model".
            _check_compatible(header, path)
            # The settings before the arrays too: they say how long each array must be.
            settings = _settings(header.get("settings"), path)
            n = settings.n_features
            weights = np.array(_array(archive, "weights", n), dtype=np.float64)
            intercept = float(_array(archive, "intercept", 1)[0])
            first, second = _array(archive, "calibration", 2)
            calibration = (float(first), float(second))
            variances = (
                np.array(_array(archive, "variances", n + 1), dtype=np.float64)
                if "variances.npy" in archive.namelist()
                else None
            )
        # NaN or infinite weights score every message 0.0 or NaN without a word of warning.
        if not (np.isfinite(weights).all() and np.isfinite([intercept, *calibration]).all()):
            raise ValueError("its weights are not all finite numbers")
        # learn() would copy a NaN variance into the weights at its first step.
        if variances is not None and not np.isfinite(variances).all():
            raise ValueError("its learning variances are not all finite numbers")
    except (
        OSError,
        EOFError,  # an archive member cut short
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        RecursionError,  # a header of JSON brackets nested thousands deep
        zipfile.BadZipFile,
        # A damaged archive member: its compressed data, or its compression method, version
        # or flags (these escaped with verify=False, or a card written for the damaged file).
        zlib.error,
        lzma.LZMAError,
        NotImplementedError,
        RuntimeError,  # a member marked encrypted
        UnicodeError,
    ) as exc:
        raise ModelError(
            f"{str(path)!r} is not a spamclf model (spamclf never unpickles model files): {exc}"
        ) from exc
    try:
        script_counts = header.get("script_counts")
        return Model(weights, intercept, calibration, settings, card, variances, script_counts)
    except _SETTINGS_ERRORS as exc:
        raise ModelError(f"{str(path)!r} has settings this spamclf cannot use: {exc}") from exc


# What settings and counts this spamclf cannot use raise as they are read.
_SETTINGS_ERRORS = (
    TypeError,
    ValueError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,  # a count of 1e999, which JSON reads as infinity
    SpamclfError,
)


def _settings(settings: object, path: Path) -> ModelSettings:
    try:
        return ModelSettings.from_dict(settings)  # type: ignore[arg-type]
    except _SETTINGS_ERRORS as exc:
        raise ModelError(f"{str(path)!r} has settings this spamclf cannot use: {exc}") from exc


# A header holds the settings and the script counts: a few kilobytes.
_MAX_HEADER_BYTES = 1 << 20


def _array(archive: zipfile.ZipFile, name: str, length: int | None) -> np.ndarray:
    """The archive's array ``name``, read only once its own header says that it is ``length``
    plain numbers (for the header, at most :data:`_MAX_HEADER_BYTES` bytes). NumPy makes room
    for the shape that header declares before it reads a byte, and the shape was checked after:
    a file of 1.5 KB declaring 2**28 weights took 1 GB, one declaring 2**40 raised a bare
    MemoryError. (Compressed zeros fill what they declare: that is why the settings' n_features
    has a bound, MAX_N_FEATURES; 262 KB of them declaring 2**26 weights took 807 MB.)"""
    with archive.open(f"{name}.npy") as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ValueError(f"its {name} is in .npy format {version}, which spamclf never writes")
    fits = len(shape) == 1 and (
        shape[0] == length if length is not None else shape[0] <= _MAX_HEADER_BYTES
    )
    if not fits or dtype.kind not in "fiu" or dtype.itemsize > 8:
        wanted = f"({length},)" if length is not None else f"(at most {_MAX_HEADER_BYTES},)"
        raise ValueError(
            f"its {name} holds {dtype} of shape {shape}, not numbers of shape {wanted}"
        )
    with archive.open(f"{name}.npy") as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _check_compatible(header: dict[str, Any], path: Path) -> None:
    version = header.get("format_version")
    schema = header.get("feature_schema")
    if version != FORMAT_VERSION or schema != FEATURE_SCHEMA:
        raise ModelVersionError(
            f"{str(path)!r} has format {version} and feature schema {schema!r}; this spamclf "
            f"reads format {FORMAT_VERSION} with schema {FEATURE_SCHEMA!r}: retrain the model"
        )


# A card is a few kilobytes; save_model writes none larger than load_model reads.
_MAX_CARD_BYTES = 64 << 20


def _read_card(card_file: BinaryIO | OSError, path: Path) -> dict[str, Any]:
    """The card opened beside ``path`` (or the error that opening it raised)."""
    try:
        if isinstance(card_file, OSError):
            raise card_file
        # A megabyte at a time: read(_MAX_CARD_BYTES) makes room for all of it at once.
        chunks: list[bytes] = []
        for chunk in iter(lambda: card_file.read(1 << 20), b""):
            chunks.append(chunk)
            if sum(map(len, chunks)) > _MAX_CARD_BYTES:  # a card linked to /dev/zero
                raise ValueError(f"it is larger than {_MAX_CARD_BYTES:,} bytes")
        card = json.loads(b"".join(chunks).decode("utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(
            f"{str(path)!r} has no card {card_path(path).name} to verify it against "
            "(load_model(..., verify=False) skips the check)"
        ) from exc
    except (OSError, ValueError, RecursionError) as exc:
        raise ModelError(f"cannot read the card of {str(path)!r}: {exc}") from exc
    if not isinstance(card, dict):
        raise ModelError(f"the card of {str(path)!r} is not a JSON object")
    # learn() adds to these, after its step: a count of "3" (a card edited by hand) raised a
    # bare TypeError there, with the weights already moved.
    learned = card.get("learned", {"spam": 0, "ham": 0})
    if not (
        isinstance(learned, dict)
        and all(type(learned.get(label)) is int and learned[label] >= 0 for label in LABELS)
    ):
        raise ModelError(
            f"the card of {str(path)!r} has learned counts {learned!r:.80} where two whole "
            "numbers, spam and ham, belong"
        )
    return card


def _sha256(f: BinaryIO) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: f.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _locked(folder: Path, *, shared: bool) -> Iterator[None]:
    """Hold ``folder``'s lock (flock: shared, or exclusive) while the block runs.

    A save swaps its model and card in by two renames, and a load that opened the files
    between them paired the new model with the old card: an integrity error from a pair that
    was whole a moment later (a server reloading on SIGHUP while another process retrains).
    Saves hold the lock exclusive across their renames, loads hold it shared while they open
    the pair, each for microseconds. The folder itself is locked, so no lock file is left
    beside the model. Where the file system has no locks (some network mounts), the pair is
    opened as before."""
    try:
        fd: int | None = os.open(folder, os.O_RDONLY)
    except OSError:
        fd = None
    try:
        if fd is not None and fcntl is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        if fd is not None:
            # Unlocked before it is closed: a process forked meanwhile holds a copy of the
            # descriptor, and closing ours alone left the lock held for as long as it lived.
            if fcntl is not None:
                with contextlib.suppress(OSError):
                    fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _write_temp(path: Path, write) -> Path:  # type: ignore[no-untyped-def]
    """Write a complete, synced temporary file beside ``path`` (for ``os.replace``), with the
    permissions and owner of the file it will replace. Every file was made 0644: a private
    model (0600) became readable by all at its next save, a new one's umask was ignored, and
    a model that root retrained for a server's user became root's."""
    _make_folders(path.parent)
    while True:  # a name not taken; mkstemp's files are 0600 whatever the umask
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        try:
            # 0666 less the umask, as any new file; O_EXCL never follows a link planted there.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileNotFoundError):  # a new file: the umask has its say
            old = os.stat(path)
            if hasattr(os, "chown"):  # not on Windows
                with contextlib.suppress(OSError):  # only root gives a file to another user
                    os.chown(tmp, old.st_uid, old.st_gid)
            os.chmod(tmp, stat.S_IMODE(old.st_mode))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


def _make_folders(folder: Path) -> None:
    """Make ``folder`` and those above it that are missing, each synced into the one above:
    the folders that a save made were not, and a power cut after save() returned could take
    them, and the model in them, away."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        folder.mkdir(exist_ok=True)  # another save may have made it meanwhile
        _fsync_folder(folder.parent)


def _fsync_folder(folder: Path) -> None:
    """Make the new entries of ``folder`` durable: a power cut after save() returns keeps them."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not every platform opens folders
        return
    try:
        os.fsync(fd)
    except OSError:  # nor syncs them
        pass
    finally:
        os.close(fd)


def _versions() -> dict[str, str]:
    from importlib import metadata

    versions = {}
    for name in ("spamclf", "scikit-learn", "numpy", "jieba", "rjieba", "iptocc"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    import sys

    versions["python"] = sys.version.split()[0]
    return versions
