"""Tests of spamclf.inputs: whatever the caller holds, to raw bytes."""

from __future__ import annotations

import email
import email.message
import gzip
import os
import threading
from pathlib import Path

import pytest
from conftest import fixture_path

from spamclf.errors import InputError, SeveralMessagesError
from spamclf.inputs import MessageHead, read_head, read_heads, to_bytes
from spamclf.parse import parse_bytes

RAW = b"Subject: hi\n\nbody\n"


class _PathLike:
    """An os.PathLike that is not a pathlib.Path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __fspath__(self) -> str:
        return str(self.path)


@pytest.mark.parametrize(
    "value",
    [RAW, bytearray(RAW), memoryview(RAW), RAW.decode()],
    ids=["bytes", "bytearray", "memoryview", "str-text"],
)
def test_to_bytes_passes_raw_content_through(value: object) -> None:
    assert to_bytes(value) == RAW  # type: ignore[arg-type]


@pytest.mark.parametrize("wrap", [str, Path, _PathLike], ids=["str-path", "pathlib", "pathlike"])
def test_to_bytes_reads_a_path(wrap: type) -> None:
    path = fixture_path("english_ham")
    assert to_bytes(wrap(path)) == path.read_bytes()


class _BytesPathLike:
    """An os.PathLike whose path is bytes, as os.fspath allows."""

    def __init__(self, path: object) -> None:
        self.path = path

    def __fspath__(self) -> object:
        return self.path


def test_to_bytes_reads_a_pathlike_that_gives_bytes() -> None:
    path = fixture_path("english_ham")
    assert to_bytes(_BytesPathLike(bytes(path))) == path.read_bytes()  # type: ignore[arg-type]
    assert read_head(_BytesPathLike(bytes(path)), 10)[0] == path.read_bytes()[:10]  # type: ignore[arg-type]


def test_a_pathlike_that_gives_no_path_raises_input_error() -> None:
    with pytest.raises(InputError, match="cannot read message file"):
        to_bytes(_BytesPathLike(5))  # type: ignore[arg-type]


def test_to_bytes_reads_a_relative_str_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "m.eml").write_bytes(RAW)
    monkeypatch.chdir(tmp_path)
    assert to_bytes("m.eml") == RAW


@pytest.mark.parametrize(
    "text",
    [
        "Subject: hi",  # one line, not a file
        "Subject: see /no/such/file.eml",  # a header field that mentions a path
        "buy now at cheap/meds today",  # a separator, but words: a line of text
        "http://example.com/offer.eml",  # a URL
        "hello",  # one word
        "",  # empty
    ],
)
def test_to_bytes_str_that_is_not_an_existing_file_is_text(text: str) -> None:
    assert to_bytes(text) == text.encode("utf-8")


@pytest.mark.parametrize(
    "name", ["/no/such/file.eml", "no/such/file", "missing.eml", "C:\\mail\\1.eml"]
)
def test_to_bytes_str_in_the_form_of_a_missing_path_raises_input_error(name: str) -> None:
    # A mistyped path would otherwise be scored as a one-line message.
    with pytest.raises(InputError, match="cannot read message file"):
        to_bytes(name)


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_to_bytes_reads_a_path_with_the_line_break_of_a_list_of_paths(
    tmp_path: Path, end: str
) -> None:
    path = tmp_path / "m.eml"
    path.write_bytes(RAW)
    assert to_bytes(f"{path}{end}") == RAW
    with pytest.raises(InputError, match="cannot read message file"):
        to_bytes(f"{tmp_path / 'gone.eml'}{end}")
    assert to_bytes(f"buy now{end}") == f"buy now{end}".encode()  # a line of text stays text


def test_to_bytes_str_with_newline_is_text_even_if_a_file_has_that_name(tmp_path: Path) -> None:
    name = tmp_path / "odd\nname.eml"
    name.write_bytes(b"file content")
    assert to_bytes(str(name)) == str(name).encode()


def test_to_bytes_str_naming_a_directory_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read message file"):
        to_bytes(str(tmp_path))


def test_to_bytes_bare_name_of_a_directory_raises_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No separator, no .eml: not path-shaped, but a folder of that name is there. It was
    # scored as the message text "inbox".
    (tmp_path / "inbox").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="Is a directory"):
        to_bytes("inbox")


def test_to_bytes_str_keeps_surrogate_escaped_bytes() -> None:
    text = b"Subject: caf\xe9\n\nbody".decode("utf-8", "surrogateescape")
    assert to_bytes(text) == b"Subject: caf\xe9\n\nbody"


@pytest.mark.parametrize("wrap", [Path, _PathLike])
def test_to_bytes_missing_path_raises_input_error(tmp_path: Path, wrap: type) -> None:
    with pytest.raises(InputError, match="cannot read message file"):
        to_bytes(wrap(tmp_path / "missing.eml"))


def test_to_bytes_directory_path_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        to_bytes(tmp_path)


def test_to_bytes_flattens_an_email_message() -> None:
    data = fixture_path("english_ham").read_bytes()
    message = email.message_from_bytes(data)
    flat = to_bytes(message)
    again = email.message_from_bytes(flat)
    assert again["Subject"] == message["Subject"]
    assert again.get_payload() == message.get_payload()


def test_to_bytes_flattens_an_email_message_with_unicode() -> None:
    message = email.message.EmailMessage()
    message["Subject"] = "Café"
    message.set_content("日本語 body")
    flat = to_bytes(message)
    assert "日本語".encode() in flat


@pytest.mark.parametrize("value", [123, None, 1.5, ["Subject: x"], {"a": 1}, object()])
def test_to_bytes_unsupported_type_raises_input_error(value: object) -> None:
    with pytest.raises(InputError, match=f"cannot classify a {type(value).__name__}"):
        to_bytes(value)  # type: ignore[arg-type]


def test_input_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        to_bytes(42)  # type: ignore[arg-type]


def test_to_bytes_treats_a_str_of_4096_chars_or_more_as_text() -> None:
    text = "x" * 5000
    assert to_bytes(text) == text.encode()


def test_read_head_reads_a_file_no_further_than_asked(tmp_path: Path) -> None:
    path = tmp_path / "big.eml"
    path.write_bytes(RAW + b"x" * 10_000)
    assert read_head(path, 100) == ((RAW + b"x" * 10_000)[:100], len(RAW) + 10_000)
    assert read_head(str(path), 10**6) == (RAW + b"x" * 10_000, len(RAW) + 10_000)


def test_read_head_of_a_pipe_knows_there_is_more(tmp_path: Path) -> None:
    import os
    import threading

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(RAW * 100), daemon=True)
    writer.start()
    head, size = read_head(fifo, 50)
    writer.join(timeout=10)
    assert head == (RAW * 100)[:50]
    assert size > 50


@pytest.mark.parametrize("value", [RAW, bytearray(RAW), memoryview(RAW), RAW.decode()])
def test_read_head_of_values_in_memory(value: object) -> None:
    head, size = read_head(value, 5)  # type: ignore[arg-type]
    assert size == len(RAW)
    assert RAW.startswith(head)
    assert len(head) >= 5


def test_read_heads_keeps_only_the_head_and_the_full_size(tmp_path: Path) -> None:
    data = RAW + b"x" * 10_000
    path = tmp_path / "big.eml"
    path.write_bytes(data)
    heads = list(read_heads([path, data, str(path), RAW], 100))
    assert heads == [(data[:100], len(data))] * 3 + [(RAW, len(RAW))]


def test_read_heads_names_the_position_of_an_unreadable_message(tmp_path: Path) -> None:
    heads = read_heads([RAW, RAW, tmp_path / "gone.eml"], 100)
    assert next(heads) == next(heads) == (RAW, len(RAW))
    with pytest.raises(InputError, match=r"^message 2: cannot read message file .*gone\.eml"):
        next(heads)


@pytest.mark.parametrize(
    "messages",
    [RAW.decode(), RAW, bytearray(RAW), email.message_from_bytes(RAW), 5, None],
    ids=["str", "bytes", "bytearray", "message", "int", "none"],
)
def test_read_heads_refuses_one_message_or_no_iterable(messages: object) -> None:
    # A str would otherwise be scored one character at a time.
    with pytest.raises(InputError, match="pass an iterable of messages"):
        next(read_heads(messages, 100))  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["Subject: hi\n\nbody \ud800", "\ud800"])
def test_to_bytes_of_a_str_with_a_lone_surrogate(text: str) -> None:
    # A surrogate that stands for no byte (not surrogateescape's) becomes "?", not an error.
    assert to_bytes(text) == text.replace("\ud800", "?").encode()


def test_to_bytes_flattens_a_message_parsed_from_text() -> None:
    # email.message_from_string leaves non-ASCII text that BytesGenerator will not write.
    message = email.message_from_string("Subject: café 免费\n\nhéllo 免费发票")
    flat = to_bytes(message)
    assert "héllo 免费发票".encode() in flat
    assert parse_bytes(flat).subject == "café 免费"  # written as an RFC 2047 encoded word


def _multipart_with_a_str_part() -> email.message.Message:
    message = email.message.Message()
    message["Content-Type"] = "multipart/mixed"
    message.set_payload([email.message.Message(), "text"])
    return message


def _int_payload() -> email.message.Message:
    message = email.message.Message()
    message.set_payload(12345)  # type: ignore[arg-type]
    return message


@pytest.mark.parametrize("make", [_multipart_with_a_str_part, _int_payload])
def test_to_bytes_of_a_malformed_message_tree_raises_input_error(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="cannot serialize"):
        to_bytes(make())


def test_only_an_mbox_of_several_messages_is_refused_as_one_message() -> None:
    first = b"From a@example.com Mon Jan  1 00:00:00 2024\nSubject: one\n\nhi\n\n"
    second = b"From b@example.com Tue Jan  2 10:00:00 +0100 2024\nSubject: two\n\nyo\n"
    with pytest.raises(SeveralMessagesError, match="mbox"):
        read_head(first + second, 10**6)
    with pytest.raises(SeveralMessagesError):
        read_head(bytearray(first + second), 10**6)
    # One message in mbox form, and bodies whose lines start with "From" but are no separator.
    for single in (
        first,
        first + b"From the desk of the CEO\nNote: read this\n",
        b"Subject: s\n\nhi\n" + second,  # a separator, but the data opens as a message
    ):
        assert read_head(single, 10**6) == (single, len(single))


_ONE = b"Subject: one\n\nhi\n\n"
_TWO = b"Subject: two\n\nyo\n"


@pytest.mark.parametrize(
    "from_line",
    [
        b"From a@example.com Wed Dec  2 05:53:22 1992\n",
        b"From a@example.com Wed Dec  2 05:53:22 PST 1992\n",
        b"From a@example.com Wed Dec  2 05:53:22 1992 -0700\n",  # UW c-client, Solaris
        b"From a@example.com Wed Dec  2 05:53:22 1992 PST\n",
        b"From a Wed Dec  2 05:53 1992 remote from host\n",  # UUCP
        b"From a@example.com Wed, 02 Dec 1992 05:53:22 -0700\n",  # an RFC 2822 date
        b"From a@example.com Wed Dec  2 05:53:22 1992\r\r\n",  # CR CR LF line ends
    ],
    ids=["asctime", "zone-before", "offset-after", "zone-after", "uucp", "rfc2822", "crcrlf"],
)
def test_an_mbox_is_refused_as_one_message_whatever_its_from_line_dates(from_line: bytes) -> None:
    with pytest.raises(SeveralMessagesError):
        read_head(from_line + _ONE + from_line + _TWO, 10**6)
    assert read_head(from_line + _ONE, 10**6) == (from_line + _ONE, len(from_line + _ONE))


@pytest.mark.parametrize("first_size", [5_000, 3_000_000], ids=["over-the-head", "over-a-block"])
def test_an_mbox_file_is_refused_when_its_first_message_is_longer_than_the_head(
    tmp_path: Path, first_size: int
) -> None:
    # A first message with an attachment: its second "From " line lies past what a model reads;
    # 3 MB puts it past the first block the file is searched in, too.
    from_line = b"From a@example.com Mon Jan  1 00:00:00 2024\n"
    first = from_line + b"Subject: photos\n\n" + b"QUJD" * (first_size // 4) + b"\n\n"
    path = tmp_path / "box.mbox"
    path.write_bytes(first + from_line + _TWO)
    with pytest.raises(SeveralMessagesError):
        read_head(path, 1_000)
    path.write_bytes(first + b"From here on it is quiet\nNote: no date\n")  # one message
    assert read_head(path, 1_000)[1] == path.stat().st_size


def test_read_head_of_a_message_head_gives_its_head_and_size() -> None:
    assert read_head(MessageHead(RAW[:5], 1_000), 3) == (RAW[:5], 1_000)
    assert read_head(MessageHead(RAW, len(RAW)), 3) == (RAW, len(RAW))
    assert list(read_heads([MessageHead(RAW[:5], 1_000)], 3)) == [(RAW[:3], 1_000)]
    assert to_bytes(MessageHead(RAW[:5], 1_000)) == RAW[:5]


@pytest.mark.parametrize(
    ("message", "error", "match"),
    [
        (
            MessageHead((b"From a Mon Jan  1 00:00:00 2024\n" + _ONE) * 2, 10**6),
            SeveralMessagesError,
            "mbox",
        ),
        (MessageHead(RAW, 2), InputError, "at least as large"),
        (MessageHead("text", 10), InputError, "holds bytes"),  # type: ignore[arg-type]
        (MessageHead(b"\x1f\x8b\x08\x00\x00\x00", 10**6), InputError, "compressed"),
        (MessageHead(b"PK\x03\x04\x14\x00", 10**6), InputError, "ZIP archive"),
    ],
    ids=["mbox", "size-below-head", "str-head", "gzip-cut-short", "zip"],
)
def test_read_head_checks_a_message_head_as_it_checks_bytes(
    message: MessageHead, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        read_head(message, 100)


def test_read_heads_refuses_a_message_head_as_one_message() -> None:
    with pytest.raises(InputError, match="pass an iterable of messages"):
        next(read_heads(MessageHead(RAW, len(RAW)), 100))


@pytest.mark.parametrize(
    "view",
    [
        memoryview(bytes(b for pair in zip(RAW, b"." * len(RAW), strict=True) for b in pair))[::2],
        memoryview(RAW[::-1])[::-1],
    ],
    ids=["every-other-byte", "reversed"],
)
def test_read_head_of_a_strided_memoryview_reads_its_bytes(view: memoryview) -> None:
    # Casting a view that is not C-contiguous raised TypeError from deep inside.
    assert read_head(view, 100) == (RAW, len(RAW))
    assert to_bytes(view) == RAW


def test_read_head_of_a_pipe_that_opens_with_a_from_line_reads_it_once(tmp_path: Path) -> None:
    # A pipe cannot be searched on past its head: opened again, it would wait for a writer.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    data = b"From a@example.com Mon Jan  1 00:00:00 2024\n" + RAW * 100
    threading.Thread(target=lambda: fifo.write_bytes(data), daemon=True).start()
    result: list[tuple[bytes, int]] = []
    reader = threading.Thread(target=lambda: result.append(read_head(fifo, 50)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert result == [(data[:50], len(data))]  # read on and counted, as standard input is


def _through_a_pipe(tmp_path: Path, data: bytes) -> Path:
    """A named pipe that a thread writes ``data`` to, as ``<(zcat m.eml.gz)`` is."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)

    def write() -> None:
        try:
            with open(pipe, "wb") as writer:
                writer.write(data)
        except BrokenPipeError:  # what the old reading left the writer with
            pass

    threading.Thread(target=write, daemon=True).start()
    return pipe


def test_a_message_read_through_a_pipe_counts_its_whole_size(tmp_path: Path) -> None:
    # Counted as its head and one byte more: another size clue, and score, than its file's.
    data = b"Subject: big\n\n" + b"word " * 1_000
    assert read_head(_through_a_pipe(tmp_path, data), 1_000) == (data[:1_000], len(data))


def test_an_mbox_read_through_a_pipe_is_refused_past_a_long_first_message(
    tmp_path: Path,
) -> None:
    from_line = b"From a@example.com Mon Jan  1 00:00:00 2024\n"
    data = from_line + b"Subject: big\n\n" + b"QUJD" * 1_000 + b"\n\n" + from_line + _TWO
    with pytest.raises(SeveralMessagesError):
        read_head(_through_a_pipe(tmp_path, data), 1_000)


def test_a_compressed_mbox_read_through_a_pipe_is_refused_past_its_head(tmp_path: Path) -> None:
    # Only the decompressed head was searched, where the same file named was searched on.
    from_line = b"From a@example.com Mon Jan  1 00:00:00 2024\n"
    data = from_line + b"Subject: big\n\n" + b"QUJD" * 1_000 + b"\n\n" + from_line + _TWO
    with pytest.raises(SeveralMessagesError):
        read_head(_through_a_pipe(tmp_path, gzip.compress(data)), 1_000)
