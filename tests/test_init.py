"""Tests that keep ``spamclf.__all__`` and the error hierarchy honest."""

from __future__ import annotations

import inspect

import pytest

import spamclf
import spamclf.errors
from spamclf.errors import SpamclfError


def test_all_names_exist() -> None:
    for name in spamclf.__all__:
        assert hasattr(spamclf, name), name


def test_all_is_sorted_and_unique() -> None:
    assert spamclf.__all__ == sorted(set(spamclf.__all__))


def test_all_matches_the_public_names() -> None:
    public = {
        name
        for name, value in vars(spamclf).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public | {"__version__"} == set(spamclf.__all__)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from spamclf import *", namespace)
    namespace.pop("__builtins__")
    assert set(namespace) == set(spamclf.__all__)


def test_message_head_is_the_one_the_readers_give() -> None:
    # classify_heads and classify take what mbox_heads yields; users name it from the top.
    import spamclf.corpora

    assert spamclf.MessageHead is spamclf.corpora.MessageHead


def test_version_is_a_string() -> None:
    assert isinstance(spamclf.__version__, str)


@pytest.mark.parametrize("name", spamclf.errors.__all__)
def test_every_error_subclasses_spamclf_error(name: str) -> None:
    error = getattr(spamclf.errors, name)
    assert issubclass(error, SpamclfError)
    assert getattr(spamclf, name) is error


def test_every_exception_class_in_errors_is_exported() -> None:
    classes = {
        name
        for name, value in vars(spamclf.errors).items()
        if isinstance(value, type) and issubclass(value, BaseException)
    }
    assert classes == set(spamclf.errors.__all__)
