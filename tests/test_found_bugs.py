"""Bugs found while writing the unit tests: each test states the documented behaviour.

They fail until the bug is fixed in spamclf/; then they belong in the module's own test file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import fixture_path

from spamclf.charsets import decode, normalize_charset
from spamclf.cli import main
from spamclf.errors import ModelError
from spamclf.features import extract_features
from spamclf.htmltext import summarize_html
from spamclf.model import Model
from spamclf.parse import parse_bytes
from spamclf.persist import card_path, load_model

Loader = Callable[[str], bytes]


# charsets.decode promises "Never raises", and parse_bytes "Never raises on malformed input".
# A charset label naming a codec that refuses errors="replace" (idna), always fails
# (undefined) or is not a text codec for non-ASCII bytes (punycode) raises UnicodeError.
@pytest.mark.parametrize("label", ["idna", "undefined", "punycode"])
def test_decode_never_raises_on_a_hostile_charset_label(label: str) -> None:
    text, _ = decode(b"caf\xe9 ok", label)
    assert "ok" in text


@pytest.mark.parametrize("label", [b"idna", b"undefined", b"punycode"])
def test_parse_never_raises_on_a_hostile_body_charset(label: bytes) -> None:
    raw = b"Subject: x\nContent-Type: text/plain; charset=" + label + b"\n\ncaf\xe9 ok\n"
    assert "ok" in parse_bytes(raw).text


@pytest.mark.parametrize("label", [b"idna", b"undefined", b"punycode"])
def test_parse_never_raises_on_a_hostile_encoded_word(label: bytes) -> None:
    raw = b"Subject: =?" + label + b"?Q?caf=E9?=\n\nbody\n"
    assert parse_bytes(raw).text == "body\n"


# bad_base64.eml holds base64 with a few junk characters (!@#, $$$) and bad padding. The stdlib
# recovers "Limited offer! Click now to claim your FREE prize!!\n" and records two defects
# (tests/fixtures/README.md). parse.py's "declared base64 but raw text" check rejects any
# non-base64 character, so the message's text is the undecoded base64 and no defect is recorded.
def test_parse_decodes_base64_with_junk_characters(fixture_bytes: Loader) -> None:
    message = parse_bytes(fixture_bytes("bad_base64"))
    assert "Limited offer! Click now to claim your FREE prize!!" in message.text
    assert {"InvalidBase64CharactersDefect", "InvalidBase64PaddingDefect"} <= set(message.defects)


# parse.py only records message.defects of the top-level message: the same broken base64
# gives a defect at the top level but none inside a multipart.
def test_parse_records_defects_of_sub_parts() -> None:
    part = b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\nSGVsbG8sIHdvcmxkIQ\n"
    top_level = parse_bytes(b"Subject: x\n" + part)
    nested = parse_bytes(
        b"Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\n" + part + b"--b--\n"
    )
    assert "InvalidBase64PaddingDefect" in top_level.defects
    assert "InvalidBase64PaddingDefect" in nested.defects


# cli._classify passes the whole output line, tabs included, through safe_text, which escapes
# \t (0x09) as a control character: the tab-separated line comes out as "FILE\x09LABEL\x09...".
def test_classify_output_is_tab_separated(
    small_model: Model, tmp_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(fixture_path("gb2312_spam"))
    main(["classify", "--model", str(tmp_model_path), path])
    fields = capsys.readouterr().out.rstrip("\n").split("\t")
    verdict = small_model.classify(path)
    assert fields[:3] == [path, verdict.label, f"{verdict.score:.4f}"]
    assert len(fields) == 4


# normalize_charset maps "iso-8859-1"/"latin1" to cp1252 (WHATWG practice) and says codec names
# are mapped too, but codecs.lookup canonicalizes Latin-1 to "iso8859-1", not "latin-1", so
# other spellings of the same label keep Latin-1 and decode 0x80-0x9F as C1 control characters.
@pytest.mark.parametrize("label", ["iso8859-1", "ISO_8859-1", "latin_1", "l1", "iso-ir-100"])
def test_normalize_charset_maps_every_latin1_spelling_to_cp1252(label: str) -> None:
    assert normalize_charset(label) == "cp1252"
    assert decode(b"\x93quoted\x94 caf\xe9", label)[0] == "“quoted” café"


# features._sender_tokens yields "from:no_name" when From has no display name, then still
# tokenizes the bare address as if it were the name ("from:name:long:pro:20").
@pytest.mark.parametrize("name", ["bad_base64", "lying_charset_gb_as_latin1", "shift_jis_spam"])
def test_from_without_display_name_gives_no_name_tokens(fixture_bytes: Loader, name: str) -> None:
    tokens = extract_features(parse_bytes(fixture_bytes(name))).tokens
    assert "from:no_name" in tokens
    assert [t for t in tokens if t.startswith("from:name:")] == []


# htmltext._TAG only matches tags that start with a letter, so a DOCTYPE (or <?xml ?>) declaration
# stays in the visible text and becomes the tokens body:doctype and body:html.
@pytest.mark.parametrize(
    "source", ["<!DOCTYPE html><p>Hi there</p>", '<?xml version="1.0"?><p>Hi there</p>']
)
def test_summarize_html_drops_declarations(source: str) -> None:
    assert summarize_html(source).text == "Hi there"


def _rewrite_settings(path: Path, settings: object) -> None:
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    header = json.loads(bytes(arrays["header"]).decode("utf-8"))
    header["settings"] = settings
    arrays["header"] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    with path.open("wb") as f:
        np.savez(f, **arrays)
    card = json.loads(card_path(path).read_text(encoding="utf-8"))
    card["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    card_path(path).write_text(json.dumps(card), encoding="utf-8")


# load_model checks format and schema but then builds ModelSettings and Model outside any error
# handling: a settings field it does not know (as a newer spamclf would write) raises TypeError,
# missing settings raise KeyError, wrong-size weights raise a bare SpamclfError. The CLI then
# dies with a traceback (or exits 3) instead of exiting 4 ("the model could not be loaded").
@pytest.mark.parametrize(
    "settings",
    [{"n_features": 2**20, "new_option": True}, None, {"limits": "none"}, {"n_features": 16}],
    ids=["unknown-field", "null", "bad-limits", "weights-shape"],
)
def test_load_model_with_malformed_settings_raises_model_error(
    tmp_model_path: Path, settings: object
) -> None:
    _rewrite_settings(tmp_model_path, settings)
    with pytest.raises(ModelError):
        load_model(tmp_model_path)


def test_classify_with_malformed_settings_exits_4(tmp_model_path: Path) -> None:
    _rewrite_settings(tmp_model_path, {"n_features": 2**20, "new_option": True})
    code = main(["classify", "--model", str(tmp_model_path), str(fixture_path("examples/ham"))])
    assert code == 4
