"""Tests of spamclf.stored: message files as mail stores keep them (compressed, or not mail)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import fixture_path

import spamclf
from spamclf import stored
from spamclf.errors import InputError
from spamclf.inputs import read_head
from spamclf.model import Model

COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "xz": lzma.compress,
}
REFUSED = {
    "zstd": b"\x28\xb5\x2f\xfd\x24\x05\x29\x00\x00hello",
    "lz4": b"\x04\x22\x4d\x18\x64\x40\xa7\x05\x00\x00\x80hello",
    "Outlook .msg": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504,
    "ZIP archive": b"PK\x03\x04\x14\x00\x00\x00\x08\x00message.eml",
    "7-Zip archive": b"7z\xbc\xaf\x27\x1c\x00\x04",
    "RAR archive": b"Rar!\x1a\x07\x01\x00",
    "PDF document": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
}


@pytest.mark.parametrize("name", COMPRESSORS)
def test_a_compressed_message_gets_the_verdict_of_the_message(
    small_model: Model, tmp_path: Path, name: str
) -> None:
    raw = fixture_path("gb2312_spam").read_bytes()
    packed = COMPRESSORS[name](raw)
    file = tmp_path / "1700000000.M1P2.host:2,S"
    file.write_bytes(packed)
    expected = small_model.classify(raw)
    for message in (packed, bytearray(packed), file, str(file)):
        verdict = small_model.classify(message)
        assert (verdict.score, verdict.reasons) == (expected.score, expected.reasons)
    assert read_head(file, 100) == (raw[:100], len(raw))
    assert read_head(packed, 10**6) == (raw, len(raw))


def test_the_size_is_the_uncompressed_size_from_a_maildir_name_or_counted(
    tmp_path: Path,
) -> None:
    raw = b"Subject: big\n\n" + b"line of text\n" * 100_000
    named = tmp_path / "1700000000.M1P2.host,S=2000000:2,S"  # Dovecot's uncompressed size
    named.write_bytes(gzip.compress(raw))
    assert read_head(named, 1_000) == (raw[:1_000], 2_000_000)
    unnamed = tmp_path / "msg.eml"
    unnamed.write_bytes(gzip.compress(raw))
    assert read_head(unnamed, 1_000) == (raw[:1_000], len(raw))
    too_small = tmp_path / "1.M1.host,S=5:2,S"  # smaller than what was read: not believed
    too_small.write_bytes(gzip.compress(raw))
    assert read_head(too_small, 1_000)[1] == len(raw)


def test_a_decompression_bomb_is_counted_no_further_than_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stored, "MAX_COUNTED_BYTES", 3 << 20)
    bomb = gzip.compress(b"Subject: x\n\n" + bytes(50 << 20))  # 50 MB of zeros in 50 kB
    assert len(bomb) < 100_000
    head, size = read_head(bomb, 1_000)
    assert head.startswith(b"Subject: x") and len(head) == 1_000
    assert size == 3 << 20


@pytest.mark.parametrize("name", REFUSED)
def test_formats_that_hold_no_message_as_it_is_raise_input_error(tmp_path: Path, name: str) -> None:
    file = tmp_path / "message"
    file.write_bytes(REFUSED[name])
    with pytest.raises(InputError, match=f"message file .*{name}"):
        spamclf.classify(file)
    with pytest.raises(InputError, match=name):
        spamclf.classify(REFUSED[name])


@pytest.mark.parametrize("name", COMPRESSORS)
def test_a_truncated_or_corrupt_compressed_file_raises_input_error(
    tmp_path: Path, name: str
) -> None:
    packed = COMPRESSORS[name](fixture_path("english_ham").read_bytes())
    file = tmp_path / "cut.eml"
    file.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(InputError, match=r"cut\.eml.*cannot decompress"):
        read_head(file, 10**6)
    corrupt = packed[:12] + bytes(len(packed) - 12)
    with pytest.raises(InputError, match="cannot decompress"):
        read_head(corrupt, 10**6)


def test_messages_are_not_taken_for_compressed_files() -> None:
    for start in (b"Bcc: a@b\n", b"BZh: header\n", b"\x1f\x8bjunk", b"", b"Received: x"):
        assert not stored.is_stored(start[:16])
        assert read_head(start, 100) == (start, len(start))
    assert stored.open_stored(handle := io.BytesIO(b"From: a\n\nhi")) is handle
    assert handle.tell() == 0


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_message_saved_as_utf16_text_reads_as_the_message(
    small_model: Model, tmp_path: Path, codec: str
) -> None:
    # Notepad's "Unicode" and PowerShell 5's Out-File write UTF-16 with a byte-order mark;
    # read as bytes, its headers were lost (no sender, no Received chain).
    raw = fixture_path("received_cn_kr").read_bytes()
    mark = {"utf-16": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[codec]
    saved = mark + raw.decode("utf-8").encode(codec)
    file = tmp_path / "saved.eml"
    file.write_bytes(saved)
    expected = small_model.classify(raw)
    for message in (saved, file):
        verdict = small_model.classify(message)
        assert (verdict.score, verdict.origin) == (expected.score, expected.origin)
    assert expected.origin.relay_ip == "211.234.10.20"
    assert read_head(file, 50) == (raw[:50], len(raw))


def test_utf16_text_that_opens_with_no_header_is_read_as_it_is() -> None:
    for data in ("\ufeffDear friend, cheap watches".encode("utf-16-le"), b"\xff\xfe\x00\x01junk"):
        assert read_head(data, 100) == (data, len(data))
