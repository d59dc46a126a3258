"""Tests of spamclf.normalize: text and hosts as a reader sees them, tricks named."""

from __future__ import annotations

import time

import pytest

from spamclf.normalize import CONFUSABLES, normalize_host, normalize_text, remove_invisible


@pytest.mark.parametrize(
    ("text", "normalized", "evasions"),
    [
        ("vi\u200bagra", "viagra", ("invisible",)),
        ("vi\u200cag\u200dra", "viagra", ("invisible",)),
        ("v\u2060iagra\ufeff", "viagra", ("invisible",)),
        ("免\u200b费发\u200b票", "免费发票", ("invisible",)),
        ("re\u202eversed", "reversed", ("invisible",)),  # bidirectional override
        ("vi\u00adag\u00adra", "viagra", ("soft-hyphen",)),
        ("ｖｉａｇｒａ １００", "viagra 100", ("full-width",)),
        ("\U0001d42f\U0001d422\U0001d41a\U0001d420\U0001d42b\U0001d41a", "viagra", ("full-width",)),
        ("ⓕⓡⓔⓔ", "free", ("full-width",)),
        ("v\u0456agra", "viagra", ("mixed-script",)),  # Cyrillic і
        ("\u0440\u0430ypal", "paypal", ("mixed-script",)),  # Cyrillic р and а
        ("V\u0399AGRA", "VIAGRA", ("mixed-script",)),  # Greek Ι
        ("v\u200b\u0456agra", "viagra", ("invisible", "mixed-script")),
        ("visit xn--pypal-4ve.com", "visit paypal.com", ("mixed-script", "punycode")),
    ],
)
def test_normalize_text_undoes_evasion_and_names_it(
    text: str, normalized: str, evasions: tuple[str, ...]
) -> None:
    assert normalize_text(text) == (normalized, evasions)


@pytest.mark.parametrize(
    "text",
    [
        "plain ASCII text, nothing to do",
        "Привет, как дела? Собрание в пятницу.",  # Russian stays Russian
        "Καλημέρα σας, η συνάντηση είναι αύριο.",  # so does Greek
        "café naïve façade",  # accented Latin is Latin
        "Москва and London",  # two scripts in one text, but not within a word
    ],
)
def test_normalize_text_leaves_real_text_alone(text: str) -> None:
    assert normalize_text(text) == (text, ())


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        (
            "代开各类发票，优惠多多！ＱＱ：１２３",
            "代开各类发票，优惠多多！QQ：123",
        ),  # punctuation stays
        (
            "会議は２０２４年１月１５日（月）、本社３Ｆです。",
            "会議は2024年1月15日（月）、本社3Fです。",
        ),
        ("株式会社ＮＴＴドコモの山田です。", "株式会社NTTドコモの山田です。"),
        ("我们的电话是１３８００１３８０００，请联系。", "我们的电话是13800138000，请联系。"),
        ("안녕하세요. 회의는 ３시입니다.", "안녕하세요. 회의는 3시입니다."),
        ("【重要】２月の会議", "【重要】2月の会議"),
        (
            "会議のお知らせ\n\n１２３４５６７８９０",
            "会議のお知らせ\n\n1234567890",
        ),  # no letter near
    ],
)
def test_normalize_text_folds_full_width_of_cjk_typography_without_naming_evasion(
    text: str, normalized: str
) -> None:
    assert normalize_text(text) == (normalized, ())


@pytest.mark.parametrize(
    "text",
    [
        "buy ｖｉａｇｒａ now",
        "Buy ｖｉａｇｒａ．ｃｏｍ today",
        "Call ５５５-１２３４ now",
        "１２３",
        "免费\U0001d42f\U0001d422\U0001d41a",  # styled letters are no CJK typography
    ],
)
def test_normalize_text_names_full_width_outside_cjk_text(text: str) -> None:
    assert normalize_text(text).evasions == ("full-width",)


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("ok 👍\ufe0f", "ok 👍"),  # emoji presentation selector (VS16)
        ("👨\u200d👩\u200d👧 family", "👨👩👧 family"),  # joiners between emoji
        ("می\u200cخواهم", "میخواهم"),  # Persian non-joiner
        ("क्\u200dष", "क्ष"),  # Devanagari joiner after a virama
        ("שלום \u200fabc", "שלום abc"),  # Hebrew right-to-left mark
        ("مرحبا\u200e 2006", "مرحبا 2006"),  # Arabic left-to-right mark
        ("สวัสดี\u200bครับ", "สวัสดีครับ"),  # Thai word break
        ("\ufeffHello \u200bworld\u200b.", "Hello world."),  # beside words, not inside one
    ],
)
def test_normalize_text_names_no_evasion_for_invisibles_of_real_writing(
    text: str, normalized: str
) -> None:
    # Still removed, as everywhere, but no evidence of hiding a word.
    assert normalize_text(text) == (normalized, ())


@pytest.mark.parametrize(
    "text",
    ["при\u200bвет", "13800\u200b138000", "vi\ufe0fagra", "vi\u200fagra", "\u304a\u200b\u5f97"],
)
def test_normalize_text_names_invisibles_inside_plain_script_words(text: str) -> None:
    assert normalize_text(text).evasions == ("invisible",)


def test_normalize_text_keeps_cjk_punctuation_full_width() -> None:
    assert "，" in normalize_text("免费，ＡＢＣ").text


def test_confusables_map_to_single_ascii_letters() -> None:
    assert all(
        len(latin) == 1 and latin.isascii() and latin.isalpha() for latin in CONFUSABLES.values()
    )
    assert not any(key.isascii() for key in CONFUSABLES)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("www.xn--pypal-4ve.com", ("www.paypal.com", True, True)),
        ("xn--80ak6aa92e.com", ("apple.com", True, True)),  # аррӏе, all Cyrillic, under .com
        ("\u0440\u0430ypal.com", ("paypal.com", False, True)),
        ("WWW.Example.COM", ("www.example.com", False, False)),
        ("xn--e1afmkfd.xn--p1ai", ("пример.рф", True, False)),  # a real Russian domain
        ("xn--fiqs8s.cn", ("中国.cn", True, True)),  # mixed, but nothing looks like Latin
        # Labels wholly in Greek or Cyrillic under a Latin TLD are written in that script:
        ("ουρανός.gr", ("ουρανός.gr", False, True)),
        ("www.ουρανός.gr", ("www.ουρανός.gr", False, True)),
        ("пример.com", ("пример.com", False, True)),
        ("www.сок.рф", ("www.сок.рф", False, True)),
        # but not when a label mixes, or all their letters look Latin (as аррӏе above):
        ("paypal.\u0441\u043e\u043c", ("paypal.com", False, True)),  # a Cyrillic "сом"
        ("xn--99999999999.com", ("xn--99999999999.com", True, False)),  # invalid: kept
        ("xn--a.com", ("xn--a.com", True, False)),  # decodes to a control character: kept
    ],
)
def test_normalize_host(host: str, expected: tuple[str, bool, bool]) -> None:
    assert normalize_host(host) == expected


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("[Web발신]\n<건*강*검*진>통-지-서 확인", "[Web발신]\n<건강검진>통지서 확인"),
        ("국 민 건 강 검 진 통 지 서 입 니 다.", "국민건강검진통지서입니다."),
        ("<건*강*\n검*진> 결과", "<건강검진> 결과"),  # across a line break
        ("대.출 상*담", "대출상담"),  # two characters and a symbol
        ("무/료 대 출", "무료대출"),  # words spelled apart, spaces between them too
        ("(광*고) 특가", "(광고) 특가"),
        ("代.开.发.票", "代开发票"),
        ("联 系 人：王先生", "联系人：王先生"),
        ("发-票", "发票"),
        ("お 得 な 情 報", "お得な情報"),
        ("大★特★価", "大特価"),
        ("誘┃ 惑┃ 倶┃ 楽┃ 部┃ ！┃ ！┃", "誘惑倶楽部┃ ！┃ ！┃"),  # box drawing
        ("免\u200b.费", "免费"),  # an invisible character between too
    ],
)
def test_normalize_text_joins_cjk_words_spelled_apart(text: str, normalized: str) -> None:
    normalized_text = normalize_text(text)
    assert normalized_text.text == normalized
    assert "spaced" in normalized_text.evasions


@pytest.mark.parametrize(
    "text",
    [
        "내일 할 수 있다면 한 번 보자",  # two one-syllable words a space apart
        "手  机：13800138000  邮  箱：a@example.cn",  # labels aligned in columns
        "东、南、西、北，汞，锰，铬",  # lists
        "한·미 정상회담, 서울ㆍ부산",
        "'개'의 후손",  # a quoted character
        "ー ー ー ー ・ ・ ・",  # rules
        "2024년 1월 5일 - 3일 / 4일",  # characters beside digits are no words alone
        "价格: 5 元 / 件",
    ],
)
def test_normalize_text_leaves_cjk_words_written_apart_by_real_writing(text: str) -> None:
    assert normalize_text(text) == (text, ())


@pytest.mark.parametrize(
    "text",
    [
        "免" * 100_000 + "\u0430",  # one look-alike after a long Han run
        "免a" * 50_000 + "\u0430",
        "v\u0456agra " * 15_000,
        "\u200b" * 100_000,
        "xn--" * 25_000,
        "가 " * 50_000,  # one spaced word of 50,000 characters
        "가" + " " * 100_000 + "나",
        "a 가 1 " * 25_000,  # characters alone after a gap, no word
        "가*" * 50_000 + "x",
    ],
)
def test_normalize_text_is_linear_on_hostile_text(text: str) -> None:
    start = time.perf_counter()
    normalize_text(text)
    assert time.perf_counter() - start < 1.0


def test_remove_invisible_keeps_what_a_reader_sees() -> None:
    # Look-alikes, full width and punycode stay: they are what url_tokens reads a disguise from.
    written = "ｈｔｔｐ\u200b：／／p\u0430y\u00adpal.xn--p1ai \u200c"
    assert remove_invisible(written) == "ｈｔｔｐ：／／p\u0430ypal.xn--p1ai "
    assert remove_invisible("plain ascii") == "plain ascii"


@pytest.mark.parametrize(
    "host",
    [
        "ουρανός." * 125_000 + "gr",  # labels written in their script: every one is read
        "а" * 1_000_000 + "b.com",  # one label, mixed only at its end
        "ό" * 1_000_000 + ".com",
        "." * 1_000_000 + "ό.com",
    ],
)
def test_normalize_host_is_linear_on_a_hostile_megabyte(host: str) -> None:
    start = time.perf_counter()
    normalize_host(host)
    assert time.perf_counter() - start < 0.25
