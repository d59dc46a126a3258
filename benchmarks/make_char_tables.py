"""Regenerates ``spamclf/_chartables.py``: the most frequent Han and Hangul characters.

The charset detector in ``spamclf/charsets.py`` needs to know what *plausible* Chinese and Korean
text looks like, because GBK, Big5 and EUC-KR overlap byte for byte: Korean EUC-KR bytes decode
cleanly as GB2312 hanzi and vice versa. Real text concentrates on a few hundred characters, while a
wrong decoding scatters over thousands, so coverage by a frequency table tells them apart.

- Han: character frequencies summed over jieba's word-frequency dictionary (shipped with jieba).
- Hangul: character frequencies of the Korean SMS/comment corpus in ../shared/corpora (only the
  character ranking is kept, no text).

Usage: python benchmarks/make_char_tables.py [--corpora DIR]
"""

from __future__ import annotations

import argparse
import collections
import csv
import os
from pathlib import Path

import jieba

HAN_COUNT = 1500
HANGUL_COUNT = 800


def han_ranking() -> list[str]:
    freq: collections.Counter[str] = collections.Counter()
    dict_path = Path(jieba.__file__).parent / "dict.txt"
    for line in dict_path.read_text(encoding="utf-8").splitlines():
        word, count, *_ = line.split()
        for ch in word:
            if "\u4e00" <= ch <= "\u9fff":
                freq[ch] += int(count)
    return [ch for ch, _ in freq.most_common(HAN_COUNT)]


def hangul_ranking(corpora: Path) -> list[str]:
    freq: collections.Counter[str] = collections.Counter()
    path = corpora / "korean-sms-smishing-lgai-mixed" / "lgaidataset_all_classified.csv"
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            freq.update(ch for ch in row["content"] if "\uac00" <= ch <= "\ud7a3")
    return [ch for ch, _ in freq.most_common(HANGUL_COUNT)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("SPAMCLF_CORPORA", str(Path.home() / ".cache/spamclf/corpora"))
    parser.add_argument("--corpora", type=Path, default=Path(default))
    args = parser.parse_args()
    han = "".join(han_ranking())
    hangul = "".join(hangul_ranking(args.corpora))
    out = Path(__file__).resolve().parent.parent / "spamclf" / "_chartables.py"
    lines = [
        '"""Most frequent Han and Hangul characters, from benchmarks/make_char_tables.py."""',
        "",
        f"COMMON_HAN = frozenset({han!r})",
        f"COMMON_HANGUL = frozenset({hangul!r})",
        "",
    ]
    out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {out}: {len(han)} Han, {len(hangul)} Hangul")


if __name__ == "__main__":
    main()
