"""Tests of spamclf.charsets: decoding under missing, unknown and lying charset labels."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamclf.charsets import _latin_words, decode, normalize_charset

GB_TEXT = "特价促销：名牌手表一律三折，免费送货上门！"
GBK_TEXT = "喆镕商贸有限公司年终大促销活动开始啦！"  # 喆 and 镕 are outside GB2312
BIG5_TEXT = "會議記錄與下週行程確認，請您過目。"  # 會 = B7 7C: an ASCII "|" as trail byte
KOREAN_TEXT = "고객님께 특별한 혜택을 드립니다. 무담보 신용대출 당일 승인"
JAPANESE_TEXT = "来週の打ち合わせについて、資料をお送りいたします。"
SJIS_TEXT = "詳しい収入表と参加方法はこちら。専用ソフトが全自動で稼ぎます。"  # 表, ソ: 0x5C trail
LATIN_TEXT = "Café – “naïve” façade costs €5"
UTF8_TEXT = "Café résumé — naïve ✓ 日本語 Ελληνικά"


@pytest.mark.parametrize(
    ("data", "label", "text", "codec"),
    [
        pytest.param(GB_TEXT.encode("gb2312"), "gb2312", GB_TEXT, "gb18030", id="gb2312"),
        pytest.param(GB_TEXT.encode("gb2312"), "GB2312", GB_TEXT, "gb18030", id="gb2312-upper"),
        pytest.param(GBK_TEXT.encode("gbk"), None, GBK_TEXT, "gb18030", id="gbk-unlabelled"),
        pytest.param(GBK_TEXT.encode("gbk"), "gb2312", GBK_TEXT, "gb18030", id="gbk-as-gb2312"),
        pytest.param(BIG5_TEXT.encode("big5"), "big5", BIG5_TEXT, "big5hkscs", id="big5"),
        pytest.param(
            KOREAN_TEXT.encode("euc_kr"), "ks_c_5601-1987", KOREAN_TEXT, "cp949", id="ks_c_5601"
        ),
        pytest.param(KOREAN_TEXT.encode("euc_kr"), "cp949", KOREAN_TEXT, "cp949", id="cp949"),
        pytest.param(KOREAN_TEXT.encode("euc_kr"), "euc-kr", KOREAN_TEXT, "cp949", id="euc-kr"),
        pytest.param(
            JAPANESE_TEXT.encode("iso2022_jp"),
            "iso-2022-jp",
            JAPANESE_TEXT,
            "iso2022_jp_ext",
            id="iso-2022-jp",
        ),
        pytest.param(
            JAPANESE_TEXT.encode("iso2022_jp"),
            None,
            JAPANESE_TEXT,
            "iso2022_jp_ext",
            id="iso-2022-jp-unlabelled",
        ),
        pytest.param(SJIS_TEXT.encode("shift_jis"), "Shift_JIS", SJIS_TEXT, "cp932", id="sjis"),
        pytest.param(
            LATIN_TEXT.encode("cp1252"), "windows-1252", LATIN_TEXT, "cp1252", id="windows-1252"
        ),
        pytest.param(UTF8_TEXT.encode("utf-8"), "UTF-8", UTF8_TEXT, "utf-8", id="utf-8"),
        pytest.param(UTF8_TEXT.encode("utf-8"), None, UTF8_TEXT, "utf-8", id="utf-8-unlabelled"),
        pytest.param(b"plain ascii", None, "plain ascii", "ascii", id="ascii"),
        pytest.param(b"", "gb2312", "", "ascii", id="empty"),
    ],
)
def test_decode_reads_labelled_and_unlabelled_charsets(
    data: bytes, label: str | None, text: str, codec: str
) -> None:
    assert decode(data, label) == (text, codec)


@pytest.mark.parametrize(
    ("data", "label", "text"),
    [
        pytest.param(GB_TEXT.encode("gb2312"), "iso-8859-1", GB_TEXT, id="gb-as-latin1"),
        pytest.param(GB_TEXT.encode("gb2312"), "us-ascii", GB_TEXT, id="gb-as-ascii"),
        pytest.param(BIG5_TEXT.encode("big5"), "gb2312", BIG5_TEXT, id="big5-as-gb2312"),
        pytest.param(KOREAN_TEXT.encode("euc_kr"), "gb2312", KOREAN_TEXT, id="euckr-as-gb2312"),
        pytest.param(KOREAN_TEXT.encode("euc_kr"), "big5", KOREAN_TEXT, id="euckr-as-big5"),
        pytest.param(UTF8_TEXT.encode("utf-8"), "iso-8859-1", UTF8_TEXT, id="utf8-as-latin1"),
        pytest.param(UTF8_TEXT.encode("utf-8"), "gb2312", UTF8_TEXT, id="utf8-as-gb2312"),
    ],
)
def test_decode_sees_through_lying_labels(data: bytes, label: str, text: str) -> None:
    assert decode(data, label)[0] == text


# 7-bit encodings: every byte is ASCII, so taken for ASCII they read as garbage ("9+7a").
KOREAN_ISO2022 = KOREAN_TEXT.encode("iso2022_kr")
GB_HZ = GB_TEXT.encode("hz")


@pytest.mark.parametrize(
    ("data", "label", "text", "codec"),
    [
        pytest.param(KOREAN_ISO2022, "iso-2022-kr", KOREAN_TEXT, "iso2022_kr", id="iso-2022-kr"),
        pytest.param(KOREAN_ISO2022, None, KOREAN_TEXT, "iso2022_kr", id="iso-2022-kr-unlabelled"),
        pytest.param(  # a mailer that sent the shifts but not the announcing escape line
            KOREAN_ISO2022.replace(b"\x1b$)C", b""),
            "ISO-2022-KR",
            KOREAN_TEXT,
            "iso2022_kr",
            id="iso-2022-kr-without-designator",
        ),
        pytest.param(GB_HZ, "hz-gb-2312", GB_TEXT, "hz", id="hz"),
        pytest.param(GB_HZ, None, GB_TEXT, "hz", id="hz-unlabelled"),
        pytest.param(b"Re: ~{Cb7Q~} ok", "us-ascii", "Re: 免费 ok", "hz", id="hz-short"),
    ],
)
def test_decode_reads_seven_bit_chinese_and_korean(
    data: bytes, label: str | None, text: str, codec: str
) -> None:
    assert data.isascii()
    assert decode(data, label) == (text, codec)


@pytest.mark.parametrize(
    "data",
    [
        b"s/~{abcd~}/x/ in Perl",  # decodes as HZ, but to rare characters
        b"~{~} and ~~~~ rules",  # decodes as HZ to no Chinese at all (and ~~ to ~)
        b"x = ~{ a + b ~}",  # not valid HZ
    ],
)
def test_decode_keeps_ascii_that_only_looks_like_hz(data: bytes) -> None:
    assert decode(data) == (data.decode("ascii"), "ascii")


# A gateway that drops ESC bytes leaves ISO-2022-JP as "$B...(B": it was read as ASCII garbage.
STRIPPED_JAPANESE = "お知らせ：来週の会議の資料を送ります。"


@pytest.mark.parametrize("label", ["iso-2022-jp", None])
@pytest.mark.parametrize(
    "text",
    [STRIPPED_JAPANESE, JAPANESE_TEXT, "Re: プチ割引のご案内", "10月の予定です"],
)
def test_decode_restores_iso2022_jp_without_its_escapes(text: str, label: str | None) -> None:
    data = text.encode("iso2022_jp").replace(b"\x1b", b"")
    assert b"$B" in data
    assert decode(data, label) == (text, "iso2022_jp_ext")


# Half-width katakana come after ESC ( I, which was not looked for: katakana alone read as
# ASCII ("\x1b(I6@6E\x1b(B"), and without the ESC bytes beside kanji and kana as "(I>0Y".
@pytest.mark.parametrize("label", ["iso-2022-jp", None])
@pytest.mark.parametrize(
    ("text", "stripped"),
    [
        ("ｶﾀｶﾅ", False),
        ("ｾｰﾙ開催中", False),
        ("ｾｰﾙ開催中", True),
        ("ｱﾝｹｰﾄのお願い", True),
        ("こんにちは ｶﾀｶﾅ です", True),
    ],
)
def test_decode_reads_iso2022_jp_half_width_katakana(
    text: str, stripped: bool, label: str | None
) -> None:
    data = text.encode("iso2022_jp_ext")
    assert b"\x1b(I" in data
    if stripped:
        data = data.replace(b"\x1b", b"")
    assert decode(data, label) == (text, "iso2022_jp_ext")


# ASCII that writes the designations without ESC: not a run of pairs up to "(B", one kanji
# ("$B12(B"), or no kana ("$BCAFE(B" reads as two kanji).
@pytest.mark.parametrize(
    "data",
    [
        b"Budget: $B12(B) of the plan",
        b"Options: (A) $B (B) $C",
        b"LDAA #$BF00 ; see $BFFE-$BFFF",
        b"=SUM($B$2:$B$9)*(B2/100)",
        b"The $BCAFE(B) case",
        b"echo $@ (B)",
        b"see (II)(B) and (IBM(B",  # half-width katakana alone: no run of pairs beside them
    ],
)
@pytest.mark.parametrize("label", ["iso-2022-jp", None])
def test_decode_keeps_ascii_that_only_looks_like_iso2022_jp(data: bytes, label: str | None) -> None:
    assert decode(data, label)[0] == data.decode("ascii")


# Designations with no "(B" to end them: searched for as one pattern of lazy runs, 160 bytes of
# "(I$B" took hours (each "(I" a place to end a run of pairs or go on), a few KB of "$B" seconds.
@pytest.mark.parametrize(
    "data",
    [
        b"$B" + b"(I$B" * 40,
        b"$B" + b"$B(I" * 40,
        b"$B" * 100_000,
        b"(I$Bx" * 50_000,
        b"$B" + b"$Bx(B" * 50_000,  # each "(B" off the pairs' boundaries
    ],
    ids=["katakana-or-pairs", "pairs-or-katakana", "pairs", "katakana-and-pairs", "off-boundary"],
)
def test_decode_is_linear_on_designations_that_lead_nowhere(data: bytes) -> None:
    start = time.perf_counter()
    text, codec = decode(data)
    assert time.perf_counter() - start < 1.0
    assert (text, codec) == (data.decode("ascii"), "ascii")


# Stripped runs beside ASCII, one after another, and a chain that reaches no "(B" before one
# that does: each run ends at the first designation that may end it.
@pytest.mark.parametrize(
    "text",
    ["ｾｰﾙ開催中 and お知らせ", "お知らせ(1) お知らせ", "$B$B お知らせ", "(I$B お知らせ"],
)
def test_decode_restores_each_stripped_chain(text: str) -> None:
    data = text.encode("iso2022_jp_ext").replace(b"\x1b", b"")
    assert decode(data) == (text, "iso2022_jp_ext")


ENGLISH_TEXT = "Lunch tomorrow at noon? The usual place."


@pytest.mark.parametrize("text", [ENGLISH_TEXT, GB_TEXT, KOREAN_TEXT, "Встреча завтра в полдень."])
@pytest.mark.parametrize(
    ("encoding", "label", "codec"),
    [
        ("utf-16-le", "utf-16le", "utf-16-le"),
        ("utf-16-be", "UTF-16BE", "utf-16-be"),
        ("utf-16-le", "unicode", "utf-16-le"),  # Outlook's label, UTF-16LE by WHATWG
        ("utf-16", "utf-16", "utf-16"),  # with a byte-order mark
        ("utf-16", None, "utf-16"),  # the mark alone tells it
        ("utf-16", "iso-8859-1", "utf-16"),  # and overrules a label
    ],
)
def test_decode_reads_utf16(text: str, encoding: str, label: str | None, codec: str) -> None:
    # English and Russian in UTF-16 are all bytes under 0x80: they were read as ASCII with NULs.
    assert decode(text.encode(encoding), label) == (text, codec)


@pytest.mark.parametrize("text", [ENGLISH_TEXT, GB_TEXT, KOREAN_TEXT, "Встреча завтра в полдень."])
@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_decode_reads_a_utf16_label_without_a_mark_in_either_byte_order(
    text: str, encoding: str
) -> None:
    # RFC 2781 reads unmarked UTF-16 as big-endian, WHATWG as little-endian: senders do both.
    # Big-endian was read as ASCII laced with NULs, and its words were lost.
    assert decode(text.encode(encoding), "utf-16") == (text, "utf-16")


def test_decode_overrules_a_utf16_label_over_text_that_is_not() -> None:
    # Read as UTF-16, b"Hello world!" is 效汬⁯潷汲Ⅴ.
    assert decode(b"Hello world!", "utf-16") == ("Hello world!", "ascii")
    assert decode(GB_TEXT.encode("gb2312"), "utf-16le") == (GB_TEXT, "gb18030")


@pytest.mark.parametrize("label", ["hz-gb-2312", "iso-2022-kr", "utf-7"])
def test_decode_overrules_a_seven_bit_label_over_eight_bit_bytes(label: str) -> None:
    # Read with the label, each 8-bit byte became U+FFFD.
    assert decode(LATIN_TEXT.encode("cp1252"), label) == (LATIN_TEXT, "cp1252")
    assert decode(GB_TEXT.encode("gb2312"), label) == (GB_TEXT, "gb18030")


def test_decode_lying_latin1_label_reports_the_real_codec() -> None:
    assert decode(GB_TEXT.encode("gb2312"), "iso-8859-1") == (GB_TEXT, "gb18030")


def test_decode_keeps_a_single_byte_label_over_single_byte_text() -> None:
    data = "Grüße aus Köln".encode("iso-8859-15")
    assert decode(data, "iso-8859-15") == ("Grüße aus Köln", "iso8859-15")


# Russian, Hebrew and Greek letters are all high bytes, in runs like GB2312's pairs; no CJK codec
# reads them plausibly, so the single-byte label stands (trec06p: 74 of 3,000 test messages).
@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Уважаемые коллеги, приглашаем вас на семинар по бухгалтерскому учету", "windows-1251"),
        ("Привет, как дела? Семинар будет в пятницу вечером", "koi8-r"),
        ("שלום לכולם, הסמינר יתקיים ביום שישי בערב", "windows-1255"),
        ("Καλημέρα σε όλους, το σεμινάριο θα γίνει την Παρασκευή", "windows-1253"),
    ],
)
def test_decode_keeps_a_single_byte_label_that_no_cjk_codec_reads(text: str, label: str) -> None:
    assert decode(text.encode(label), label) == (text, normalize_charset(label))


# A subject is a few words: too few CJK characters for the frequency tables to judge as text,
# yet a single-byte label must not lose to GB18030 by default. Read as GB18030, these give a
# few rare Han characters; genuine Chinese under a wrong label gives common ones.
@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("В аренду офис", "windows-1251"),
        ("Бессалов В.Ж.", "koi8-r"),
        ("85% инбокс!!!", "windows-1251"),
        ("מחנות קיץ", "windows-1255"),
        ("สวัสดีครับ", "windows-874"),
        ("………", "iso-8859-1"),
    ],
)
def test_decode_keeps_a_single_byte_label_over_a_few_words(text: str, label: str) -> None:
    assert decode(text.encode(normalize_charset(label) or label), label)[0] == text


# Some CJK codec reads a few Cyrillic, Greek or Hebrew letters as mostly common characters by
# chance, and that reading beat the sender's label ("Привет" in KOI8-R as Japanese "靤夫都").
@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Привет", "koi8-r"),
        ("Счет на оплату", "koi8-r"),
        ("Скидка на доставку", "koi8-r"),
        ("Доставка", "windows-1251"),
        ("Привет", "iso-8859-5"),
        ("Γεια", "iso-8859-7"),
        # Read as two common Han characters ("五存", "羊波"): Hebrew and Arabic letters stand.
        ("חינם", "windows-1255"),
        ("חינם", "iso-8859-8"),
        ("حساب", "windows-1256"),
        ("حساب", "iso-8859-6"),
    ],
)
def test_decode_keeps_a_non_latin_single_byte_label_that_reads_as_words(
    text: str, label: str
) -> None:
    assert decode(text.encode(label), label) == (text, normalize_charset(label))


# Without a label, text that no CJK codec reads is read by the single-byte codec whose words
# read as words of one alphabet: before, each of these came out as CJK mojibake (or, for
# Turkish and Polish, with windows-1252's letters in place of their own).
@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("Сдаем в аренду офис в центре Москвы, недорого. Звоните!", "cp1251"),
        ("сдаем в аренду офис в центре москвы недорого", "cp1251"),
        ("Сдаем в аренду офис в центре Москвы, недорого. Звоните!", "koi8_r"),
        ("ЗДЕСЬ РЕАЛЬНЫЕ ДЕНЬГИ!!!", "koi8_r"),
        ("В аренду офис", "cp1251"),
        ("שלום לכולם, הסמינר יתקיים ביום שישי בערב", "cp1255"),
        ("Καλημέρα σε όλους, το σεμινάριο θα γίνει την Παρασκευή", "cp1253"),
        ("مرحبا عرض خاص اليوم فقط", "cp1256"),
        ("สวัสดีครับ ข้อเสนอพิเศษวันนี้", "cp874"),
        ("Güzel bir gün, İstanbul'da özel fırsat şimdi", "cp1254"),
        ("Cena tylko 100 złotych, zapraszamy już dziś", "cp1250"),
        ("potencialidades e restrições, tendências", "cp1252"),
        ("Été à Paris: où est la boîte? Voilà, très bien. Windows® 25°C", "cp1252"),
    ],
)
def test_decode_finds_the_single_byte_codec_of_unlabelled_text(text: str, codec: str) -> None:
    assert decode(text.encode(codec)) == (text, codec)


# ý, common in Czech and Slovak, was refused in every reading, so Czech came out as Turkish
# ("Dobrı den"); Turkish ı and ğ read as windows-1250 are Czech ý and Croatian đ.
@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("Dobrý den, posíláme Vám fakturu. Děkujeme za spolupráci.", "cp1250"),
        ("Nový výrobek za skvělou cenu", "cp1250"),
        ("Dobrý deň, ďakujeme za objednávku", "cp1250"),
        ("Bună ziua, oferta ţine până mâine", "cp1250"),
        ("Sıcak fırsatlar sizi bekliyor", "cp1254"),
        ("Değerli üyemiz", "cp1254"),
        ("Şifrenizi güncelleyin", "cp1254"),
    ],
)
def test_decode_tells_unlabelled_czech_and_slovak_from_turkish(text: str, codec: str) -> None:
    assert decode(text.encode(codec)) == (text, codec)


# Turkish words of mostly ü, ş, ç, ö were refused in Turkish as "mostly accented" (Russian
# read as Latin is), and windows-1256 won with a right-to-left mark for ş ("dü\u200fük").
@pytest.mark.parametrize("encoding", ["cp1254", "iso8859-9"])
@pytest.mark.parametrize("text", ["düşük", "Fiyatlar çok düşük", "üçüncü sınıf", "Sonuç: şık"])
def test_decode_reads_unlabelled_turkish_words_of_many_accented_letters(
    text: str, encoding: str
) -> None:
    assert decode(text.encode(encoding)) == (text, "cp1254")


# A combining mark after no letter is no text: Thai read as windows-1255 is Hebrew points after
# symbols ("¡ֳ״³ׂ"), which counted as words without letters and came before windows-874.
@pytest.mark.parametrize("encoding", ["cp874", "tis-620"])
@pytest.mark.parametrize("text", ["กรุณาตอบกลับ", "ขอบคุณมาก"])
def test_decode_refuses_combining_marks_without_a_letter(text: str, encoding: str) -> None:
    assert decode(text.encode(encoding)) == (text, "cp874")


# Text whose high bytes look multi-byte was guessed from its first high byte, inside a word:
# "üçlü" and "říští" are too accented to be words, and GB18030 mojibake won.
@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("Güçlü ve düşük fiyatlı", "cp1254"),
        ("příští týden", "cp1250"),
        ("Příští týden vám zašleme fakturu", "cp1250"),
    ],
)
def test_decode_guesses_a_single_byte_codec_from_the_start_of_a_word(text: str, codec: str) -> None:
    assert decode(text.encode(codec)) == (text, codec)


# Czech, Polish and Croatian read as windows-1252 are words too, but their letters come from
# several languages at once ("Proszê ... zadzwoniæ": French ê, Danish æ) or are symbols glued
# to letters ("³adna", "ni¿sze", "nasz¹"); read as windows-1254, Czech has acute vowels that
# Turkish does not write. Western and Turkish text keeps its codec, "nº" and "1ª" included.
@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("Děkujeme za Vaši objednávku", "cp1250"),  # was Dìkujeme
        ("Máte zájem o levnou půjčku?", "cp1250"),  # was pùjèku
        ("Dobrý den, posíláme Vám fakturu.", "cp1250"),  # was Dobrı (windows-1254)
        ("Ďakujeme za objednávku", "cp1250"),  # was Ïakujeme
        ("Proszę do nas zadzwonić", "cp1250"),
        ("Jutro będzie ładna pogoda", "cp1250"),
        ("Ceny niższe niż kiedykolwiek", "cp1250"),
        ("Zobacz naszą ofertę", "cp1250"),
        ("É a 1ª vez que compra?", "cp1252"),
        ("Informações sobre o pedido nº 123", "cp1252"),  # was Informaçőes ... nş
        ("Willkommen im Café Müller", "cp1252"),
        ("Wohnung 50m² ab sofort, Windows® für 5€", "cp1252"),
        ("¿Qué tal? ¡Hola, señor!", "cp1252"),
        ("Hesabınız askıya alındı", "cp1254"),
    ],
)
def test_decode_reads_unlabelled_latin_text_in_one_language(text: str, codec: str) -> None:
    assert decode(text.encode(codec)) == (text, codec)


# One letter that reads as a letter of another language: Polish ń as Spanish ñ, Hungarian ő as
# Portuguese õ, Croatian đ as Turkish ğ. Those stand only before a vowel (ñ, õ) or after one
# (ğ); Spanish, Portuguese and Turkish keep their codec.
@pytest.mark.parametrize(
    ("text", "encoding", "codec"),
    [
        ("Jeden koń", "cp1250", "cp1250"),  # was koñ
        ("Dzień dobry", "iso8859-2", "cp1250"),  # was Dzieñ
        ("Szép idő", "cp1250", "cp1250"),  # was idõ
        ("hő", "iso8859-2", "cp1250"),
        ("Hvala, đak", "cp1250", "cp1250"),  # was ğak
        ("Pozdrav od Đure", "iso8859-2", "cp1250"),  # was Ğure
        ("Señor Muñoz, ¡feliz año!", "cp1252", "cp1252"),
        ("Informações: põe a promoção", "cp1252", "cp1252"),
        ("Değerli müşterimiz, dağ evi", "cp1254", "cp1254"),
    ],
)
def test_decode_reads_an_unlabelled_letter_where_its_language_writes_it(
    text: str, encoding: str, codec: str
) -> None:
    assert decode(text.encode(encoding)) == (text, codec)


def test_decode_reads_turkish_that_transliterates_a_few_arabic_words() -> None:
    # A Turkish prayer text writes Arabic words in Latin letters ("ğafertehu", ğ starting a
    # word), which Turkish itself never does; one such ğ refused the whole windows-1254 reading
    # and 9 KB of Turkish came out as windows-1252 ("alýnarak" for "alınarak").
    text = (
        "Bu duanın okunması tavsiye edilir, ağabeyimiz aşağıdaki satırları yazdı. "
        "Doğru yolda olanların duası kabul olunur; dağda, bağda, her yerde okunur. "
    ) * 4 + "Vallahi ğafertehu ve yusteskal ğamâmu, diye devam eder."
    assert decode(text.encode("cp1254")) == (text, "cp1254")


@pytest.mark.parametrize("text", ["免费发票", "明天20岁了！呵呵～", "什么叫“狂野party”哦～～"])
def test_decode_reads_a_few_unlabelled_chinese_words_as_chinese(text: str) -> None:
    # Short subjects were too few characters to judge, and cp949 sometimes won by a bonus.
    assert decode(text.encode("gb18030")) == (text, "gb18030")


def test_decode_reads_mostly_valid_utf8_as_utf8() -> None:
    # A body cut inside a character, or one stray windows-1252 byte: before, the whole text was
    # re-detected and came out as CJK mojibake.
    text = "Привет, как дела? 你好，朋友们。Grüß"
    cut = text.encode("utf-8")[:-1]  # half of the ß
    assert decode(cut) == (text[:-1] + "\ufffd", "utf-8")
    stray = text.encode("utf-8") + b" \x93quoted\x94"
    assert decode(stray)[0] == text + " \ufffdquoted\ufffd"


# Too few CJK characters to judge the label's reading, which won by default: short UTF-8 under
# a GB2312 label came out as GB18030 mojibake ("浠ｅ紑鍙戠エ"), Korean with private-use
# characters ("氍措\ue5d1").
@pytest.mark.parametrize("label", ["gb2312", "gbk", "big5", "euc-kr", "shift_jis"])
@pytest.mark.parametrize("text", ["代开发票", "Re: 免费", "무료 상담", "免費諮詢", "お知らせです"])
def test_decode_reads_short_utf8_under_a_cjk_label_as_utf8(text: str, label: str) -> None:
    assert decode(text.encode("utf-8"), label) == (text, "utf-8")


# UTF-8 with accented letters and no CJK under a CJK label: each letter's two bytes read as
# one common Han character ("Caf茅", "na茂ve r茅sum茅", "Cafﾃｩ"), and that won.
@pytest.mark.parametrize("label", ["gb2312", "big5", "euc-kr", "shift_jis"])
@pytest.mark.parametrize(
    "text",
    ["Café", "naïve résumé", "Grüße aus Köln", "Děkujeme za objednávku", "Don’t miss it"],
)
def test_decode_reads_latin_utf8_under_a_cjk_label_as_utf8(text: str, label: str) -> None:
    assert decode(text.encode("utf-8"), label) == (text, "utf-8")


# GB2312 and EUC-KR text this short is often valid UTF-8 too, but as UTF-8 it reads as
# scattered Latin, Cyrillic or Hebrew letters: the label stands.
@pytest.mark.parametrize(
    ("text", "label", "codec"),
    [
        ("压色", "gb2312", "gb18030"),  # as UTF-8: ѹɫ
        ("陆泉", "gb2312", "gb18030"),  # ½Ȫ
        ("转史习忙", "gb2312", "gb18030"),  # תʷϰæ
        ("茅", "gb2312", "gb18030"),  # é
        ("茅台", "gb2312", "gb18030"),  # é and a combining ogonek
        ("Re: 茅", "gb2312", "gb18030"),  # Re: é, a letter in no ASCII word
        ("Re: 천", "euc-kr", "cp949"),  # Re: õ
    ],
)
def test_decode_keeps_a_cjk_label_over_short_text_that_is_also_utf8(
    text: str, label: str, codec: str
) -> None:
    data = text.encode(label)
    data.decode("utf-8")  # valid UTF-8 as well
    assert decode(data, label) == (text, codec)


# Archives cut encoded-word subjects and size caps cut bodies inside a character: the strict
# decode with the label failed on the last bytes, and the whole text came out as mojibake in
# another codec ("Re: 鍏嶈垂" from UTF-8, "Ãâ·Ñ·" from GB2312).
@pytest.mark.parametrize(
    ("text", "label", "codec", "cut"),
    [
        ("Re: 免费发票代", "utf-8", "utf-8", 1),
        ("Re: 免费发票代", "utf-8", "utf-8", 2),
        ("免费发票代开", "utf-8", "utf-8", 1),
        ("Скидка на д", "utf-8", "utf-8", 1),
        ("Sale 50% 😀", "utf-8", "utf-8", 3),
        ("Re: 免费发", "gb2312", "gb18030", 1),
        ("限时优惠 😀", "gb18030", "gb18030", 3),  # a four-byte GB18030 character
        ("會議記錄", "big5", "big5hkscs", 1),
        ("고객님께 특별", "euc-kr", "cp949", 1),
        ("詳しい収入", "shift_jis", "cp932", 1),
    ],
)
def test_decode_keeps_the_label_of_text_cut_inside_a_character(
    text: str, label: str, codec: str, cut: int
) -> None:
    data = text.encode(codec)[:-cut]
    assert decode(data, label) == (text[:-1] + "\ufffd", codec)


@pytest.mark.parametrize("label", ["iso-8859-1", "windows-1251", "us-ascii", "windows-1255"])
@pytest.mark.parametrize("text", ["免费发票", "广州", "代开各类发票"])
def test_decode_reads_a_few_chinese_words_under_a_wrong_single_byte_label(
    text: str, label: str
) -> None:
    assert decode(text.encode("gb2312"), label) == (text, "gb18030")


def test_decode_judges_the_text_where_its_high_bytes_are() -> None:
    # Thai after 2,000 characters of English: the first 1,500 characters show no CJK
    # character, and every CJK codec looked plausible.
    thai = "ดาวน์โหลดเวอร์ชั่นได้แล้วที่นี่ สวัสดีครับ กราบขออภัย"
    data = ("Head Office: Monsanto UK Ltd. " * 70 + thai).encode("tis-620")
    assert decode(data, "tis-620") == (data.decode("tis-620"), "tis-620")


def test_decode_utf7_label_over_ascii_bytes() -> None:
    assert decode(b"+ZeVnLA-", "utf-7") == ("日本", "utf-7")


# One to three UTF-8 characters are too few high bytes to look multi-byte: the single-byte label
# was trusted and made mojibake of them ("Donâ€™t", "CafÃ©").
@pytest.mark.parametrize(
    "label", ["iso-8859-1", "us-ascii", "windows-1252", "iso-8859-15", "windows-1250"]
)
@pytest.mark.parametrize(
    "text", ["Don’t miss this offer", "Café open today", "Price: 5€ only", "Free gift 🎁 inside"]
)
def test_decode_reads_a_few_utf8_characters_under_a_single_byte_label(
    text: str, label: str
) -> None:
    assert decode(text.encode("utf-8"), label) == (text, "utf-8")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("CAFÉ’ tonight", "windows-1252"),  # É’ is valid UTF-8, read as ɒ
        ("Sie sagt: STRAß”", "windows-1252"),  # ß” is valid UTF-8, read as NKo
        ("Café", "iso-8859-1"),  # not valid UTF-8 at all
    ],
)
def test_decode_keeps_a_single_byte_label_over_text_that_only_parses_as_utf8(
    text: str, label: str
) -> None:
    codec = normalize_charset(label) or label
    assert decode(text.encode(codec), label) == (text, codec)


# Latin-1 is read as cp1252 (WHATWG practice), whatever the spelling of the label: mail labelled
# Latin-1 really holds Windows quotes and dashes in 0x80-0x9F, never C1 control characters.
@pytest.mark.parametrize("label", ["iso8859-1", "ISO_8859-1", "latin_1", "l1", "iso-ir-100"])
def test_decode_reads_every_latin1_spelling_as_cp1252(label: str) -> None:
    assert decode(b"\x93quoted\x94 caf\xe9", label)[0] == "“quoted” café"


def _junk(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe\x80\x81\x00\xc0",
        bytes(range(256)),
        b"\x1b$B" + b"\xff" * 10,  # an ISO-2022-JP escape followed by nonsense
        GB_TEXT.encode("gb2312")[:-1],  # cut in the middle of a character
        _junk(0, 64),
        _junk(1, 4096),
        _junk(2, 10_000),
    ],
    ids=["short", "all-bytes", "iso2022-junk", "truncated-gb", "junk64", "junk4k", "junk10k"],
)
@pytest.mark.parametrize(
    "label", [None, "utf-8", "gb2312", "big5", "ks_c_5601-1987", "iso-8859-1", "x-unknown"]
)
def test_decode_never_raises_on_undecodable_bytes(data: bytes, label: str | None) -> None:
    text, codec = decode(data, label)
    assert isinstance(text, str)
    assert normalize_charset(codec) is not None


# Labels naming codecs that refuse errors="replace" (idna), always fail (undefined) or are not text
# codecs for non-ASCII bytes (punycode) must fall back like an unknown label.
@pytest.mark.parametrize("label", ["idna", "undefined", "punycode"])
def test_decode_never_raises_on_non_text_codec_labels(label: str) -> None:
    text, _ = decode(b"caf\xe9 ok", label)
    assert "ok" in text


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("gb2312", "gb18030"),
        ("GB2312", "gb18030"),
        ("gbk", "gb18030"),
        ("x-gbk", "gb18030"),
        ("cp936", "gb18030"),
        ("euc-cn", "gb18030"),
        ("big5", "big5hkscs"),
        ("cp950", "big5hkscs"),
        ("ks_c_5601-1987", "cp949"),
        ('"KS_C_5601-1987"', "cp949"),
        ("euc-kr", "cp949"),
        ("korean", "cp949"),
        ("Shift_JIS", "cp932"),
        ("sjis", "cp932"),
        ("iso-2022-jp", "iso2022_jp_ext"),
        # Encoding Standard labels Python does not know, or knows as a narrower codec.
        ("EUC_KR", "cp949"),
        ("windows-949", "cp949"),
        ("x-euc-jp", "euc_jp"),
        ("x-x-big5", "big5hkscs"),
        ("unicode-1-1-utf-8", "utf-8"),
        ("iso-8859-8-i", "iso8859-8"),
        ("dos-874", "cp874"),
        ("x-mac-cyrillic", "mac-cyrillic"),
        ("unicode", "utf-16-le"),
        ("ISO-8859-1", "cp1252"),
        ("latin1", "cp1252"),
        ("iso8859-1", "cp1252"),
        ("ISO_8859-1", "cp1252"),
        ("latin_1", "cp1252"),
        ("l1", "cp1252"),
        ("iso-ir-100", "cp1252"),
        ("us-ascii", "cp1252"),
        ("windows-1252", "cp1252"),
        ("utf8", "utf-8"),
        ("UTF-8", "utf-8"),
        (" 'gb2312' ", "gb18030"),
        ("koi8-r", "koi8-r"),
        ("windows-874", "cp874"),
        ("TIS-620", "tis-620"),
    ],
)
def test_normalize_charset_maps_aliases_to_superset_codecs(label: str, codec: str) -> None:
    assert normalize_charset(label) == codec


@pytest.mark.parametrize("label", [None, "", "x-no-such-charset", "\x00", "=?"])
def test_normalize_charset_returns_none_for_unknown_labels(label: str | None) -> None:
    assert normalize_charset(label) is None


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=2000),
    label=st.sampled_from(
        [
            None,
            "gb2312",
            "big5",
            "ks_c_5601-1987",
            "iso-2022-jp",
            "shift_jis",
            "utf-8",
            "iso-8859-1",
            "utf-7",
            "idna",
            "x-unknown",
            "",
            '"GBK"',
        ]
    ),
)
def test_decode_never_raises_and_returns_text(data: bytes, label: str | None) -> None:
    text, codec = decode(data, label)
    assert isinstance(text, str)
    assert normalize_charset(codec) is not None or codec in ("ascii", "utf-7")


# Each start inside a long ASCII word scanned on to its end for a non-ASCII letter: 100,000
# letters then " é" took 41 s (decode reads 4 KB samples so, 75 ms a message).
def test_latin_words_is_linear_in_a_long_ascii_word() -> None:
    start = time.perf_counter()
    assert _latin_words("a" * 100_000 + " café")
    assert time.perf_counter() - start < 1.0
