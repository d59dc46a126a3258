"""Tests of spamclf.tokenize: words in any script."""

from __future__ import annotations

import pytest

from spamclf.tokenize import MAX_WORD, fold_case, is_japanese, segment_chinese, words


@pytest.mark.parametrize(
    ("run", "segments"),
    [
        ("代开各类发票", ["代开", "各类", "发票"]),
        ("免费咨询", ["免费", "咨询"]),
        ("我们在北京开会", ["我们", "在", "北京", "开会"]),
        ("关于下周三的项目会议安排", ["关于", "下", "周三", "的", "项目", "会议", "安排"]),
    ],
)
def test_segment_chinese_uses_jieba_dictionary(run: str, segments: list[str]) -> None:
    assert segment_chinese(run) == segments


def test_words_segments_chinese_runs() -> None:
    assert list(words("优惠多多，免费咨询！")) == ["优惠", "多多", "免费", "咨询"]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("무료상담", ["무료", "료상", "상담"]),
        ("고객님께서", ["고객", "객님", "님께", "께서"]),
        ("こんにちは", ["こん", "んに", "にち", "ちは"]),
        ("カタカナ", ["カタ", "タカ", "カナ"]),
        ("한", ["한"]),  # a one-character run is kept whole
        ("の", ["の"]),
    ],
)
def test_words_splits_korean_and_kana_into_bigrams(text: str, tokens: list[str]) -> None:
    assert list(words(text)) == tokens


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("ＦＲＥＥ ＶＩＡＧＲＡ", ["free", "viagra"]),
        ("１００％", ["100"]),
        ("ﾊﾟｿｺﾝ", ["パソ", "ソコ", "コン"]),  # half-width katakana
    ],
)
def test_words_normalizes_full_and_half_width_forms(text: str, tokens: list[str]) -> None:
    assert list(words(text)) == tokens


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Hello, World!", ["hello", "world"]),
        (
            "e-mail don't user@example.com 2006-031",
            ["e-mail", "don't", "user@example.com", "2006-031"],
        ),
        ("Привет мир", ["привет", "мир"]),
        ("a I x 9 99", ["99"]),  # one-character ASCII words carry no clue
        ("é", ["é"]),  # a one-character non-ASCII word does
        ("snake_case", ["snake", "case"]),
        ("", []),
        ("  \n\t", []),
    ],
)
def test_words_splits_space_separated_scripts(text: str, tokens: list[str]) -> None:
    assert list(words(text)) == tokens


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("สวัสดี ครับ", ["สวัสดี", "ครับ"]),  # Thai vowel and tone marks (Mn)
        ("नमस्ते दुनिया", ["नमस्ते", "दुनिया"]),  # Devanagari vowel signs and virama (Mc, Mn)
        ("x\u0301y", ["x\u0301y"]),  # a mark NFKC cannot compose stays in its word
        ("\u0301abc", ["abc"]),  # a mark that follows no letter is no word
        ("1\ufe0f\u20e3 ok", ["ok"]),  # nor is a keycap emoji: variation selectors spell nothing
        ("ok\u3099あ", ["ok", "\u3099あ"]),  # a kana voicing mark stays in its kana run
    ],
)
def test_words_keeps_combining_marks_in_words(text: str, tokens: list[str]) -> None:
    assert words(text) == tokens


@pytest.mark.parametrize(
    ("upper", "lower"),
    [
        ("İSTANBUL", "istanbul"),  # Turkish dotted capital I
        ("İÇİN", "için"),
        ("ISTANBUL", "istanbul"),
    ],
)
def test_words_reads_capitals_as_the_lower_case_word(upper: str, lower: str) -> None:
    assert words(upper) == words(lower) == [lower]


def test_fold_case_keeps_one_character_per_character() -> None:
    assert fold_case("İyi Günler") == "iyi günler"


@pytest.mark.parametrize("apostrophe", ["'", "\u2019"])
def test_words_reads_a_typographic_apostrophe_as_the_ascii_one(apostrophe: str) -> None:
    text = f"Don{apostrophe}t miss it{apostrophe}s café offer"
    assert words(text) == ["don't", "miss", "it's", "café", "offer"]


@pytest.mark.parametrize(
    ("length", "token"),
    [
        (MAX_WORD, "x" * MAX_WORD),
        (MAX_WORD + 1, "long:xxx:20"),
        (29, "long:xxx:20"),
        (30, "long:xxx:30"),
        (123, "long:xxx:120"),
    ],
)
def test_words_buckets_long_words_by_length(length: int, token: str) -> None:
    assert list(words("x" * length)) == [token]


def test_words_mixed_scripts_in_order() -> None:
    assert list(words("ＦＲＥＥ offer! 免费发票 무료상담")) == [
        "free",
        "offer",
        "免费",
        "发票",
        "무료",
        "료상",
        "상담",
    ]


def test_words_japanese_text_bigrams_kanji_and_kana_together() -> None:
    # With kana present the text is Japanese: kanji runs join the kana bigrams, no jieba.
    expected = ["会議", "議は", "は打", "打ち", "ち合", "合わ", "わせ"]
    assert list(words("会議は打ち合わせ")) == expected


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        # の standing in for 的 (one kana among 20 Han): jieba still segments the Han around it.
        (
            "我们公司代开各类发票の优惠，欢迎来电咨询合作",
            ["我们", "公司", "代开", "各类", "发票", "の", "优惠", "欢迎", "来电", "咨询", "合作"],
        ),
        # The middle dot and the prolonged sound mark alone do not make text Japanese.
        ("欢迎来到迪士尼・乐园", ["欢迎", "来到", "迪士尼", "・", "乐园"]),
        ("免费咨询ー优惠多多", ["免费", "咨询", "ー", "优惠", "多多"]),
    ],
)
def test_words_segments_chinese_with_a_stray_kana(text: str, tokens: list[str]) -> None:
    assert words(text) == tokens


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        # Names and headlines: one kana among eleven or six kanji is still Japanese.
        (
            "大人限定出会い事務管理局",
            [
                "大人",
                "人限",
                "限定",
                "定出",
                "出会",
                "会い",
                "い事",
                "事務",
                "務管",
                "管理",
                "理局",
            ],
        ),
        ("堀江、釈放の裏話", ["堀江", "釈放", "放の", "の裏", "裏話"]),
        ("10000000円の秘密", ["10000000", "円の", "の秘", "秘密"]),
    ],
)
def test_words_reads_kanji_headlines_with_one_kana_as_japanese(
    text: str, tokens: list[str]
) -> None:
    assert words(text) == tokens


@pytest.mark.parametrize(
    ("texts", "japanese"),
    [
        (("招待状", "ご招待のお知らせです。"), True),  # a kanji subject of a Japanese body
        (("女性開発倶楽部会員様宛", "ｺﾁﾗから登録してください"), True),  # half-width katakana
        (("代开发票", "我们公司代开各类发票，欢迎来电咨询"), False),
        (("Invoice", "Please find attached"), False),
    ],
)
def test_is_japanese_judges_a_subject_and_body_together(
    texts: tuple[str, str], japanese: bool
) -> None:
    assert is_japanese(*texts) is japanese


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("様々な人々に", ["様々", "々な", "な人", "人々", "々に"]),
        ("佐々木様へ", ["佐々", "々木", "木様", "様へ"]),
        ("〆切は〇〇日です", ["〆切", "切は", "は〇", "〇〇", "〇日", "日で", "です"]),
    ],
)
def test_words_keeps_japanese_iteration_marks_in_their_run(text: str, tokens: list[str]) -> None:
    assert words(text) == tokens


def test_words_reads_han_runs_as_told() -> None:
    bigrams = ["女性", "性開", "開発", "発倶", "倶楽", "楽部"]
    assert words("女性開発倶楽部", japanese=True) == bigrams
    assert words("会議は打ち合わせ", japanese=False) == ["会議", "は", "打", "ち", "合", "わせ"]
    assert words("女性開発倶楽部") == words("女性開発倶楽部", japanese=False)


def test_words_segments_every_han_run_as_jieba_does_alone() -> None:
    # words() hands all the Han runs of a text to jieba in one call; each run must come back
    # as it would from a call of its own, and in its place among the other words.
    runs = ["代开各类发票", "我们在北京开会", "免费", "关于下周三的项目会议安排", "一"]
    text = " x1 ".join(runs) + " end"
    expected: list[str] = []
    for run in runs:
        expected += [*segment_chinese(run), "x1"]
    assert words(text) == [*expected[:-1], "end"]


def test_words_ascii_fast_path_matches_the_full_pattern() -> None:
    # ASCII text takes a simpler pattern; the same text with one non-ASCII letter takes the
    # full one. Both must split the ASCII part alike.
    text = "Hello, it's e-mail: bob@example.com -- v1.2.3_x a I 42 " + "y" * 25
    assert [*words(text), "é"] == words(text + " é")
