#!/usr/bin/env python
"""Benchmark: how should spamclf tokenize Korean / Japanese / Chinese text?

Three parts:

1. Korean.  Compare tokenizers for a hashed-binary-feature logistic
   regression on the LG AI smishing corpus: class 2 (real spam / smishing
   SMS, positive) vs class 1 (real Korean news/portal comments, negative).
   Class 3 (synthetic templated notices) is excluded.  Two variants:
     * raw         -- full text (URLs, digits, Latin words available)
     * hangul_only -- every run of non-Hangul characters is replaced by a
                      space before tokenizing, so ASCII/digit cues cannot
                      dominate; messages left empty are dropped and the
                      set is de-duplicated again.
   Metrics: 5-fold stratified CV (random_state=0), C chosen per outer fold
   by an inner 3-fold CV on the training part; ROC AUC, (1-AUC)%, spam
   recall at <=1% false-positive rate; tokens/message; tokenization speed.

2. Japanese.  No corpus; a sanity check of the CJK-bigram tokenizer on a
   few hand-written sentences.

3. Chinese.  rjieba.cut vs jieba.cut on the Han runs of the first 3,000
   trec06c messages: identical-sequence rate, token-span agreement,
   chars/s, and dictionary load time.

Usage:
    python benchmarks/cjk_tokenization.py [--corpora DIR] [--out FILE.md]

DIR defaults to $SPAMCLF_CORPORA or ~/.cache/spamclf/corpora.
"""

from __future__ import annotations

import argparse
import csv
import email
import email.policy
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np
import sklearn
from sklearn.feature_extraction import FeatureHasher
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold

SEED = 0
N_FEATURES = 2**20
C_GRID = (0.3, 1.0, 3.0, 10.0)
KOREAN_CSV = "korean-sms-smishing-lgai-mixed/lgaidataset_all_classified.csv"
TREC06C = "trec06c"
N_CHINESE = 3000

# --------------------------------------------------------------------------
# Tokenizers
# --------------------------------------------------------------------------
# Hangul syllables, Hangul Jamo, Hangul Compatibility Jamo (ㅋㅋ, ㅠㅠ, ...).
HANGUL = "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f"
# Hangul runs, or runs of word characters that are not Hangul (Latin, digits,
# Hanja, ...).  Punctuation / symbols / whitespace separate segments.
SEG_RE = re.compile(rf"([{HANGUL}]+)|([^\W{HANGUL}_]+)")
NON_HANGUL_RE = re.compile(rf"[^{HANGUL}\s]+")
EDGE_PUNCT_RE = re.compile(r"^[\W_]+|[\W_]+$")
# Korean particles (josa), longest first so 으로 wins over 로, 에서 over 서.
PARTICLES = ("에서", "으로", "은", "는", "이", "가", "을", "를", "에", "의", "로", "도", "만")


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def eojeol(text: str) -> list[str]:
    """Whitespace-separated words with leading/trailing punctuation removed."""
    out = []
    for t in text.split():
        t = EDGE_PUNCT_RE.sub("", t)
        if t:
            out.append(t)
    return out


WORD_RE = re.compile(r"[^\W_]+")


def word_runs(text: str) -> list[str]:
    """Runs of letters/digits, i.e. a typical Western regex tokenizer."""
    return WORD_RE.findall(text)


def strip_particle(tok: str) -> str:
    for p in PARTICLES:
        if len(tok) > len(p) and tok.endswith(p):
            return tok[: -len(p)]
    return tok


def eojeol_stem(text: str) -> list[str]:
    return [strip_particle(t) for t in eojeol(text)]


def _char_ngrams(text: str, unigrams: bool, bigrams: bool) -> list[str]:
    out = []
    for m in SEG_RE.finditer(text):
        run = m.group(1)
        if run is None:  # non-Hangul word run: keep whole
            out.append(m.group(2))
            continue
        if unigrams:
            out.extend(run)
        if bigrams:
            if len(run) == 1:
                if not unigrams:  # isolated char -> unigram (Lucene behaviour)
                    out.append(run)
            else:
                out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def hangul_unigrams(text):
    return _char_ngrams(text, unigrams=True, bigrams=False)


def hangul_bigrams(text):
    return _char_ngrams(text, unigrams=False, bigrams=True)


def bigrams_unigrams(text):
    return _char_ngrams(text, unigrams=True, bigrams=True)


def bigrams_eojeol(text):
    return hangul_bigrams(text) + ["w:" + t for t in eojeol(text)]


def bigrams_eojeol_stem(text):
    return hangul_bigrams(text) + ["w:" + t for t in eojeol_stem(text)]


TOKENIZERS = {
    "a. eojeol (whitespace)": eojeol,
    "a2. word runs ([^\\W_]+ regex)": word_runs,
    "b. Hangul unigrams": hangul_unigrams,
    "c. Hangul bigrams": hangul_bigrams,
    "d. bigrams + eojeol": bigrams_eojeol,
    "e. bigrams + unigrams": bigrams_unigrams,
    "f. eojeol, particle-stripped": eojeol_stem,
    "g. bigrams + particle-stripped eojeol": bigrams_eojeol_stem,
}

# Japanese / general CJK bigrams (Lucene CJKBigramFilter style): adjacent
# Han / Hiragana / Katakana / Hangul characters form one run, bigrammed.
CJK = HANGUL + "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_SEG_RE = re.compile(rf"([{CJK}]+)|([^\W{CJK}_]+)")


def cjk_bigrams(text: str) -> list[str]:
    out = []
    for m in CJK_SEG_RE.finditer(normalize(text)):
        run = m.group(1)
        if run is None:
            out.append(m.group(2))
        elif len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


# --------------------------------------------------------------------------
# Korean data + evaluation
# --------------------------------------------------------------------------
def load_korean(path: Path):
    """Return (texts, labels, info) for class 2 (1) vs class 1 (0), deduped."""
    by_key: dict[str, set] = {}
    first: dict[str, str] = {}
    raw_counts = {"1": 0, "2": 0, "3": 0}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            cls = row["class"].strip()
            raw_counts[cls] = raw_counts.get(cls, 0) + 1
            if cls not in ("1", "2"):
                continue
            text = row["content"]
            key = " ".join(text.split())
            if not key:
                continue
            by_key.setdefault(key, set()).add(cls)
            first.setdefault(key, text)
    conflicts = sum(1 for v in by_key.values() if len(v) > 1)
    texts, labels = [], []
    for key, classes in by_key.items():
        if len(classes) > 1:
            continue
        texts.append(first[key])
        labels.append(1 if "2" in classes else 0)
    info = {"raw_counts": raw_counts, "conflicts": conflicts}
    return texts, np.array(labels), info


def hangul_only(texts, labels):
    seen: dict[str, set] = {}
    first = {}
    for t, y in zip(texts, labels, strict=True):
        s = " ".join(NON_HANGUL_RE.sub(" ", t).split())
        if not s:
            continue
        seen.setdefault(s, set()).add(int(y))
        first.setdefault(s, t)
    out_t, out_y = [], []
    for s, ys in seen.items():
        if len(ys) > 1:
            continue
        # keep line structure of the original but with non-Hangul removed
        out_t.append(NON_HANGUL_RE.sub(" ", first[s]))
        out_y.append(ys.pop())
    return out_t, np.array(out_y)


def featurize(token_lists):
    hasher = FeatureHasher(n_features=N_FEATURES, input_type="string", alternate_sign=False)
    X = hasher.transform(set(toks) for toks in token_lists).tocsr()
    X.data[:] = 1.0  # binary even after hash collisions
    # drop never-used hash buckets (all-zero columns get zero weight anyway)
    return X[:, np.unique(X.indices)]


def recall_at_fpr(y, s, max_fpr=0.01):
    fpr, tpr, _ = roc_curve(y, s)
    ok = fpr <= max_fpr
    return float(tpr[ok].max()) if ok.any() else 0.0


def fit_lr(X, y, C):
    # Dual coordinate descent: n_features >> n_samples here, and it is ~30x
    # faster than liblinear's primal solver on these matrices.
    clf = LogisticRegression(C=C, solver="liblinear", dual=True, max_iter=5000)
    clf.fit(X, y)
    return clf


def choose_C(X, y):
    inner = StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED)
    best_c, best_auc = None, -1.0
    for C in C_GRID:
        aucs = []
        for tr, va in inner.split(np.zeros(len(y)), y):
            clf = fit_lr(X[tr], y[tr], C)
            aucs.append(roc_auc_score(y[va], clf.decision_function(X[va])))
        m = float(np.mean(aucs))
        if m > best_auc + 1e-9:
            best_c, best_auc = C, m
    return best_c


def cross_validate(X, y):
    outer = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    aucs, recs, cs = [], [], []
    for tr, te in outer.split(np.zeros(len(y)), y):
        C = choose_C(X[tr], y[tr])
        clf = fit_lr(X[tr], y[tr], C)
        s = clf.decision_function(X[te])
        aucs.append(roc_auc_score(y[te], s))
        recs.append(recall_at_fpr(y[te], s))
        cs.append(C)
    return np.array(aucs), np.array(recs), cs


def surface_features(texts):
    """Non-lexical baseline: length / character-class statistics only."""
    rows = []
    for t in texts:
        n = max(len(t), 1)
        rows.append(
            [
                np.log1p(len(t)),
                np.log1p(len(t.split())),
                t.count("\n") / n,
                sum(c.isdigit() for c in t) / n,
                sum(c.isascii() and c.isalpha() for c in t) / n,
                sum("\uac00" <= c <= "\ud7a3" for c in t) / n,
                sum(c.isspace() for c in t) / n,
                1.0 if re.search(r"https?://|www\.|\.(com|kr|net|ly)\b", t) else 0.0,
            ]
        )
    X = np.array(rows)
    return (X - X.mean(0)) / (X.std(0) + 1e-9)


def time_tokenizer(fn, texts, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for t in texts:
            fn(t)
        best = min(best, time.perf_counter() - t0)
    return best


def pm(a, scale=1.0, fmt="{:.4f}"):
    return f"{fmt.format(np.mean(a) * scale)} ± {fmt.format(np.std(a) * scale)}"


def run_korean(corpora: Path, log):
    texts, y, info = load_korean(corpora / KOREAN_CSV)
    variants = {"raw": (texts, y)}
    ht, hy = hangul_only(texts, y)
    variants["hangul_only"] = (ht, hy)
    results = {}
    for vname, (vt, vy) in variants.items():
        norm = [normalize(t) for t in vt]
        nchars = sum(len(t) for t in norm)
        log(f"[ko/{vname}] {len(vy)} messages ({int(vy.sum())} spam, {int((vy == 0).sum())} ham)")
        rows = []
        # surface-only baseline
        Xs = surface_features(norm)
        outer = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
        aucs, recs = [], []
        for tr, te in outer.split(Xs, vy):
            clf = LogisticRegression(C=1.0, max_iter=1000).fit(Xs[tr], vy[tr])
            s = clf.decision_function(Xs[te])
            aucs.append(roc_auc_score(vy[te], s))
            recs.append(recall_at_fpr(vy[te], s))
        rows.append(
            dict(
                name="(baseline) surface stats only, no tokens",
                auc=np.array(aucs),
                rec=np.array(recs),
                cs=["1"],
                toks=float("nan"),
                utoks=float("nan"),
                msgs_s=float("nan"),
                kchars_s=float("nan"),
            )
        )
        log(f"  {rows[0]['name']:40s} AUC {pm(rows[0]['auc'])}  R@1%FP {pm(rows[0]['rec'])}")
        for name, fn in TOKENIZERS.items():
            t0 = time.perf_counter()
            secs = time_tokenizer(fn, norm)
            toks = [fn(t) for t in norm]
            X = featurize(toks)
            auc, rec, cs = cross_validate(X, vy)
            rows.append(
                dict(
                    name=name,
                    auc=auc,
                    rec=rec,
                    cs=cs,
                    toks=float(np.mean([len(t) for t in toks])),
                    utoks=float(np.mean([len(set(t)) for t in toks])),
                    msgs_s=len(norm) / secs,
                    kchars_s=nchars / secs / 1e3,
                )
            )
            log(
                f"  {name:40s} AUC {pm(auc)}  R@1%FP {pm(rec)}  C={cs}  "
                f"({time.perf_counter() - t0:.1f}s)"
            )
        results[vname] = dict(
            rows=rows,
            n=len(vy),
            spam=int(vy.sum()),
            ham=int((vy == 0).sum()),
            mean_len_spam=float(np.mean([len(t) for t, y in zip(norm, vy, strict=True) if y])),
            mean_len_ham=float(np.mean([len(t) for t, y in zip(norm, vy, strict=True) if not y])),
        )
    return results, info


# --------------------------------------------------------------------------
# Japanese sanity check
# --------------------------------------------------------------------------
JA_SAMPLES = [
    "【重要】お客様のアカウントが一時停止されました。こちらから確認してください https://example.jp",
    "明日の会議は午後３時からに変更になりました。よろしくお願いします。",
    "ｷｬﾝﾍﾟｰﾝ当選！今すぐｸﾘｯｸ",
]


def run_japanese():
    out = []
    for s in JA_SAMPLES:
        out.append((s, cjk_bigrams(s)))
    # properties the tokenizer must have
    toks = cjk_bigrams("今すぐｸﾘｯｸ")
    assert toks == ["今す", "すぐ", "ぐク", "クリ", "リッ", "ック"], (
        toks
    )  # NFKC fixes half-width kana
    assert cjk_bigrams("日本") == ["日本"] and cjk_bigrams("本") == ["本"]
    assert cjk_bigrams("ABC 無料") == ["abc", "無料"]
    return out


# --------------------------------------------------------------------------
# Chinese: rjieba vs jieba
# --------------------------------------------------------------------------
HAN_RE = re.compile("[\u4e00-\u9fd5]+")  # jieba's own Han range


def decode_email_body(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    parts = []
    for part in msg.walk():
        if part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True)
        if payload:
            parts.append(payload.decode("gb18030", errors="replace"))
    return "\n".join(parts)


def load_chinese(corpora: Path, n: int):
    """Return (han_texts, full_bodies) for the first n messages of the index."""
    root = corpora / TREC06C
    index = root / "full" / "index"
    han, bodies = [], []
    with open(index, encoding="ascii") as f:
        for i, line in enumerate(f):
            if i >= n:
                break
            _, rel = line.split()
            raw = (index.parent / rel).resolve().read_bytes()
            body = decode_email_body(raw)
            bodies.append(body)
            han.append("\n".join(HAN_RE.findall(body)))
    return han, bodies


def spans(tokens):
    """Character spans of the non-whitespace tokens, and the total length."""
    out, pos = set(), 0
    for t in tokens:
        if not t.isspace():
            out.add((pos, pos + len(t)))
        pos += len(t)
    return out, pos


def compare_segmenters(texts, hmm):
    import jieba
    import rjieba

    nchars = sum(len(t) for t in texts)
    j_secs = r_secs = float("inf")
    for _ in range(2):  # best of 2 passes each
        t0 = time.perf_counter()
        jt = [list(jieba.cut(t, HMM=hmm)) for t in texts]
        j_secs = min(j_secs, time.perf_counter() - t0)
        t0 = time.perf_counter()
        rt = [rjieba.cut(t, hmm=hmm) for t in texts]
        r_secs = min(r_secs, time.perf_counter() - t0)
    ident = ident_nows = inter = nj = nr = recon_bad = 0
    examples = []
    for text, a, b in zip(texts, jt, rt, strict=True):
        if "".join(a) != text or "".join(b) != text:
            recon_bad += 1
        ident += a == b
        aw = [t for t in a if not t.isspace()]
        bw = [t for t in b if not t.isspace()]
        ident_nows += aw == bw
        sa, _ = spans(a)
        sb, _ = spans(b)
        inter += len(sa & sb)
        nj += len(sa)
        nr += len(sb)
        if aw != bw and len(examples) < 5:
            i = next(
                (k for k in range(min(len(aw), len(bw))) if aw[k] != bw[k]), min(len(aw), len(bw))
            )
            examples.append(
                (" / ".join(aw[max(0, i - 2) : i + 4]), " / ".join(bw[max(0, i - 2) : i + 4]))
            )
    n = len(texts)
    return dict(
        n=n,
        nchars=nchars,
        identical=ident / n,
        identical_nows=ident_nows / n,
        precision=inter / nr,
        recall=inter / nj,
        f1=2 * inter / (nj + nr),
        nj=nj,
        nr=nr,
        j_cps=nchars / j_secs,
        r_cps=nchars / r_secs,
        j_secs=j_secs,
        r_secs=r_secs,
        examples=examples,
        recon_bad=recon_bad,
    )


def _subprocess_time(code: str, repeats=3):
    vals = []
    for _ in range(repeats):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        vals.append(float(r.stdout.strip().splitlines()[-1]))
    return statistics.median(vals)


def dictionary_load_times():
    with tempfile.TemporaryDirectory() as d:
        jieba_cold = _subprocess_time(
            "import logging,time,tempfile,jieba;jieba.setLogLevel(logging.WARNING);"
            f"jieba.dt.tmp_dir=tempfile.mkdtemp(dir={d!r});"
            "t=time.perf_counter();jieba.initialize();print(time.perf_counter()-t)"
        )
        warm_code = (
            f"import logging,time,jieba;jieba.setLogLevel(logging.WARNING);jieba.dt.tmp_dir={d!r};"
            "t=time.perf_counter();jieba.initialize();print(time.perf_counter()-t)"
        )
        _subprocess_time(warm_code, repeats=1)  # writes the cache file into d
        assert os.path.exists(os.path.join(d, "jieba.cache"))
        jieba_warm = _subprocess_time(warm_code)
    jieba_import = _subprocess_time(
        "import time;t=time.perf_counter();import jieba;print(time.perf_counter()-t)"
    )
    rjieba_import = _subprocess_time(
        "import time;t=time.perf_counter();import rjieba;print(time.perf_counter()-t)"
    )
    rjieba_new = _subprocess_time(
        "import time,rjieba;t=time.perf_counter();rjieba.Jieba();print(time.perf_counter()-t)"
    )
    return dict(
        jieba_import=jieba_import,
        jieba_cold=jieba_cold,
        jieba_warm=jieba_warm,
        rjieba_import=rjieba_import,
        rjieba_new=rjieba_new,
    )


def run_chinese(corpora: Path, log):
    import logging

    import jieba
    import rjieba

    jieba.setLogLevel(logging.WARNING)
    t0 = time.perf_counter()
    han, bodies = load_chinese(corpora, N_CHINESE)
    log(
        f"[zh] loaded {len(han)} messages in {time.perf_counter() - t0:.1f}s, "
        f"{sum(map(len, han))} chars in Han runs, {sum(map(len, bodies))} chars in full bodies"
    )
    jieba.initialize()
    jieba.lcut("预热"), rjieba.cut("预热")
    results = {}
    for mode, texts in (("Han runs", han), ("full decoded body", bodies)):
        for hmm in (True, False):
            r = compare_segmenters(texts, hmm)
            results[(mode, hmm)] = r
            log(
                f"  {mode}, HMM={hmm}: identical {r['identical']:.4f}, span-F1 {r['f1']:.5f}, "
                f"jieba {r['j_cps'] / 1e3:.0f}k chars/s, rjieba {r['r_cps'] / 1e3:.0f}k chars/s"
            )
    load = dictionary_load_times()
    log(f"  load: {load}")
    return results, load, sum(map(len, han))


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------
def write_report(out: Path, cmd: str, ko, ko_info, ja, zh, zh_load, zh_chars, elapsed):
    import jieba

    L = []
    w = L.append
    w("# CJK tokenization benchmark\n")
    w("Generated by `benchmarks/cjk_tokenization.py`. Reproduce with:\n")
    w(f"```\n{cmd}\n```\n")
    w(
        f"Environment: Python {platform.python_version()}, scikit-learn {sklearn.__version__}, "
        f"jieba {jieba.__version__}, rjieba (jieba-rs binding), {os.cpu_count()} CPUs, "
        f"total run time {elapsed:.0f}s.\n"
    )

    w("## 1. Korean\n")
    rc = ko_info["raw_counts"]
    w(
        f"Corpus `{KOREAN_CSV}`: class 2 (real spam/smishing SMS) = positive, class 1 (real "
        "news/portal "
        f"comments) = negative; class 3 (synthetic templated notices, {rc.get('3', 0)} rows) "
        "excluded. "
        f"Raw rows: class 2 = {rc.get('2', 0)}, class 1 = {rc.get('1', 0)}. Exact duplicates "
        "(after whitespace normalization) were collapsed so the same SMS cannot sit in both train "
        "and "
        f"test folds; {ko_info['conflicts']} texts occurring in both classes were dropped.\n"
    )
    w(
        "Model: binary token-presence features, sklearn `FeatureHasher(2**20, "
        "alternate_sign=False)`, "
        "`LogisticRegression(solver='liblinear')`; C picked from "
        f"{list(C_GRID)} by inner 3-fold CV (AUC) inside each outer fold; outer 5-fold "
        "`StratifiedKFold(shuffle=True, random_state=0)`. Metrics are mean ± std over the 5 outer "
        "folds. "
        "R@1%FP = spam recall at false-positive rate ≤ 1% (from the ROC curve of each test fold). "
        "Text is NFKC-normalized and lower-cased before tokenizing.\n"
    )
    w(
        "Tokenizers: **a** whitespace split, edge punctuation stripped; **a2** runs of "
        "letters/digits "
        "(what a Western regex tokenizer such as sklearn's default `token_pattern` would produce "
        "— it also "
        "splits on interior punctuation, unlike a); **b/c/e** Hangul runs → character "
        "unigrams / bigrams (an isolated single Hangul char is emitted as a unigram, as in "
        "Lucene's "
        "CJKBigramFilter) / both, while non-Hangul word runs (Latin, digits, Hanja) are kept as "
        "whole "
        "tokens; **d** = c + a (eojeol prefixed `w:` so they do not collide with bigrams); **f** "
        "= a with "
        f"one trailing particle removed (longest match of {', '.join(PARTICLES)}; stem must keep "
        "≥1 char); "
        "**g** = c + f. The baseline row uses only 8 length/character-class statistics "
        "(length, #words, newline/digit/ASCII-letter/Hangul/space fractions, URL present) to show "
        "how "
        "separable the two classes are without any lexical features.\n"
    )
    for vname, title in (("raw", "1a. Raw text"), ("hangul_only", "1b. Hangul-only text (harder)")):
        r = ko[vname]
        w(f"### {title}\n")
        if vname == "hangul_only":
            w(
                "Every run of non-Hangul characters (Latin, digits, URLs, punctuation, emoji, "
                "Hanja) is "
                "replaced by a space before tokenizing; messages left empty are dropped and the "
                "set is "
                "de-duplicated again (many smishing templates differ only in URL/number).\n"
            )
        w(
            f"{r['n']} messages: {r['spam']} spam, {r['ham']} ham; mean length "
            f"{r['mean_len_spam']:.0f} chars "
            f"(spam) vs {r['mean_len_ham']:.0f} chars (ham).\n"
        )
        w(
            "| tokenizer | ROC AUC | (1-AUC) % | R@1%FP | C chosen | tokens/msg | unique/msg | k "
            "msgs/s | M chars/s |"
        )
        w("|---|---|---|---|---|---|---|---|---|")
        for row in r["rows"]:
            one_minus = 1 - row["auc"]
            if np.isnan(row["toks"]):
                tk = ut = ms = kc = "–"
            else:
                tk, ut = f"{row['toks']:.1f}", f"{row['utoks']:.1f}"
                ms, kc = f"{row['msgs_s'] / 1e3:,.0f}", f"{row['kchars_s'] / 1e3:.1f}"
            cs = ",".join(f"{c:g}" if not isinstance(c, str) else c for c in row["cs"])
            w(
                f"| {row['name']} | {pm(row['auc'])} | {pm(one_minus, 100, '{:.3f}')} | "
                f"{pm(row['rec'], 1, '{:.3f}')} | {cs} | {tk} | {ut} | {ms} | {kc} |"
            )
        w("")
    w(
        "Speed is single-threaded pure-Python tokenization only (best of 3 passes over the whole "
        "variant), excluding hashing and training; k msgs/s = thousand messages per second.\n"
    )

    w("## 2. Japanese\n")
    w(
        "No Japanese spam corpus is available, so nothing is measured. Recommended approach: "
        "NFKC-normalize (folds half-width katakana and full-width ASCII), then emit overlapping "
        "character bigrams over runs of adjacent Han / Hiragana / Katakana characters (single "
        "isolated "
        "characters as unigrams), and keep non-CJK words whole. This is the standard "
        "dictionary-free "
        "approach — Lucene's `CJKAnalyzer` / `CJKBigramFilter` (Elasticsearch `cjk` analyzer / "
        "`cjk_bigram` filter) do exactly this for Han, Hiragana, Katakana and Hangul. It needs no "
        "morphological dictionary (MeCab/Sudachi/Kuromoji), is robust to the unsegmented, "
        "neologism-heavy and deliberately obfuscated text typical of spam, and the Korean results "
        "above "
        "(the same bigram scheme applied to Hangul) show it is at least competitive with "
        "word-level "
        "tokens for a linear classifier. Sanity check of the implemented tokenizer:\n"
    )
    for s, toks in ja:
        w(f"- `{s}` → `{' | '.join(toks)}`")
    w(
        "\nAsserted in the script: half-width `ｸﾘｯｸ` becomes `クリック` bigrams; "
        "`日本` → [`日本`]; a lone `本` → [`本`]; `ABC 無料` → [`abc`, `無料`].\n"
    )

    w("## 3. Chinese: rjieba vs jieba\n")
    w(
        f"First {N_CHINESE} lines of `trec06c/full/index`; each message parsed with `email`, all "
        "`text/*` parts decoded with `gb18030, errors='replace'`. Primary input (as asked): the "
        "message's Han runs (`[\\u4e00-\\u9fd5]+`, jieba's own Han range) joined by newlines "
        f"({zh_chars:,} chars total). Secondary input: the full decoded body (Han mixed with "
        "ASCII, "
        "digits, URLs, punctuation). Calls compared: `list(jieba.cut(text, HMM=h))` vs "
        "`rjieba.cut(text, hmm=h)`; both default to HMM on (rjieba signature `cut(text, "
        "hmm=True)`), so "
        "HMM=True is the matching default setting. Agreement is measured on non-whitespace tokens "
        "by "
        "character span: precision/recall of rjieba's spans against jieba's. Speed is measured "
        "after "
        "both dictionaries are loaded, single thread, best of 2 passes.\n"
    )
    w(
        "| input | setting | identical messages | identical ignoring whitespace tokens | span "
        "precision | span recall | span F1 | tokens jieba | tokens rjieba | jieba k chars/s | "
        "rjieba k chars/s | speed-up |"
    )
    w("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (mode, hmm), r in zh.items():
        w(
            f"| {mode} | HMM={hmm} | {r['identical'] * 100:.2f}% | "
            f"{r['identical_nows'] * 100:.2f}% | "
            f"{r['precision']:.5f} | {r['recall']:.5f} | {r['f1']:.5f} | {r['nj']:,} | {r['nr']:,} "
            "| "
            f"{r['j_cps'] / 1e3:,.0f} | {r['r_cps'] / 1e3:,.0f} | {r['r_cps'] / r['j_cps']:.1f}× |"
        )
    w("")
    for (mode, hmm), r in zh.items():
        if r["recon_bad"]:
            w(
                f"Note ({mode}, HMM={hmm}): {r['recon_bad']} messages whose tokens did not "
                "concatenate "
                "back to the input.\n"
            )
        if r["examples"]:
            w(f"First differing windows, {mode}, HMM={hmm} (jieba ⟶ rjieba):\n")
            for x, y in r["examples"]:
                w(f"- `{x}` ⟶ `{y}`")
            w("")
    w("Dictionary load (median of 3 fresh processes):\n")
    w("| step | seconds |")
    w("|---|---|")
    w(f"| `import jieba` (lazy, no dictionary) | {zh_load['jieba_import']:.3f} |")
    w(
        "| `jieba.initialize()` with no cache file (builds prefix dict, writes cache) | "
        f"{zh_load['jieba_cold']:.3f} |"
    )
    w(
        "| `jieba.initialize()` with cache file present (normal case after first run) | "
        f"{zh_load['jieba_warm']:.3f} |"
    )
    w(
        "| `import rjieba` (builds its default `Jieba()` with embedded dictionary) | "
        f"{zh_load['rjieba_import']:.3f} |"
    )
    w(f"| `rjieba.Jieba()` (an additional instance) | {zh_load['rjieba_new']:.3f} |")
    w("")
    w("## Recommendation\n")
    w(recommendation(ko, zh, zh_load))
    out.write_text("\n".join(L) + "\n", encoding="utf-8")


def recommendation(ko, zh, load) -> str:
    def row(variant, prefix):
        return next(r for r in ko[variant]["rows"] if r["name"].startswith(prefix))

    def auc(r):
        return float(np.mean(r["auc"]))

    def rec(r):
        return float(np.mean(r["rec"]))

    def err(r):
        return 100 * (1 - auc(r))

    hard, raw = "hangul_only", "raw"
    tok_rows = [r for r in ko[hard]["rows"] if not r["name"].startswith("(")]
    best = max(tok_rows, key=auc)
    c, a, d, e, f = (row(hard, k) for k in ("c.", "a.", "d.", "e.", "f."))
    rc, ra, ra2, rbase = (row(raw, k) for k in ("c.", "a.", "a2.", "(baseline)"))
    hbase = row(hard, "(baseline)")
    zh_h = zh[("Han runs", True)]
    zh_h0 = zh[("Han runs", False)]
    zh_b = zh[("full decoded body", True)]
    zh_b0 = zh[("full decoded body", False)]
    text = f"""**Korean: use Hangul character bigrams within Hangul runs (tokenizer c), with
non-Hangul word runs kept as whole tokens.** On the harder Hangul-only variant, which is the one
that actually tests the tokenizer (length/character-class statistics alone already reach AUC
{auc(rbase):.4f} on raw text but only {auc(hbase):.4f} here), bigrams reach AUC {auc(c):.4f}
((1-AUC) {err(c):.2f}%, spam recall {rec(c):.3f} at 1% FP) against {auc(a):.4f} ({err(a):.2f}%,
recall {rec(a):.3f}) for whitespace eojeol: about {err(a) / err(c):.1f}× fewer ranking errors and
+{100 * (rec(c) - rec(a)):.0f} points of recall at 1% FP. The best row on that variant is
"{best["name"]}" (AUC {auc(best):.4f}), but adding eojeol to the bigrams (d: {auc(d):.4f}) or
particle-stripped eojeol (g) changes AUC by at most
{max(abs(auc(d) - auc(c)), abs(auc(row(hard, "g.")) - auc(c))):.4f}, inside the fold-to-fold std,
and it costs about {row(hard, "d.")["utoks"] / c["utoks"] - 1:.0%} more features per message, so it
isn't worth it. Particle stripping doesn't rescue word-level tokens (f: {auc(f):.4f} vs a:
{auc(a):.4f}): the eojeol vocabulary stays too sparse for short texts. Unigrams are weaker
({auc(row(hard, "b.")):.4f}), and adding them to bigrams hurts slightly (e: {auc(e):.4f}). On raw
text the same ordering holds (bigrams {auc(rc):.4f} vs eojeol {auc(ra):.4f}). Plain whitespace
eojeol is much worse there because punctuation and masked digits stay glued to words; a `[^\\W_]+`
word-run split fixes most of that ({auc(ra2):.4f}). Bigrams need no dictionary and are fast enough:
{c["kchars_s"] / 1e3:.1f}M chars/s in pure Python, about {a["kchars_s"] / c["kchars_s"]:.0f}× slower
than `str.split()` but still far cheaper than hashing and training. A caveat on the absolute
numbers: the negatives are news comments, not ham SMS, so treat the numbers as a ranking of
tokenizers, not as the accuracy to expect in production.

**Japanese: use the same tokenizer.** Apply NFKC, then character bigrams over runs of adjacent
Han/Hiragana/Katakana (an isolated character becomes a unigram), and keep non-CJK words whole. This
is Lucene's CJKBigramFilter scheme, it needs no dictionary, and the Korean results support it as a
sound default for a linear model. One `cjk_bigrams` function can serve Korean, Japanese, and Chinese
as a fallback when no segmenter is installed.

**Chinese: rjieba is a drop-in replacement for jieba on Han text.** On the Han runs of the first
{zh_h["n"]:,} trec06c messages, token sequences were identical for {100 * zh_h["identical"]:.2f}% of
messages with HMM on (the default for both) and {100 * zh_h0["identical"]:.2f}% with HMM off (span
F1 {zh_h["f1"]:.5f} / {zh_h0["f1"]:.5f}). rjieba was {zh_h["r_cps"] / zh_h["j_cps"]:.0f}× faster
({zh_h["r_cps"] / 1e6:.1f}M vs {zh_h["j_cps"] / 1e3:.0f}k chars/s) and loads its dictionary in
{load["rjieba_import"]:.2f}s at import, against {load["jieba_warm"]:.2f}s for `jieba.initialize()`
(cache present; {load["jieba_cold"]:.2f}s without one). The two differ only on non-Han text with HMM
on: in full mixed bodies, jieba splits ASCII/number runs such as `163.com` or `0769-2715421`, and
rjieba keeps them whole. Only {100 * zh_b["identical"]:.1f}% of messages were identical there (span
F1 {zh_b["f1"]:.3f}; with HMM off, {100 * zh_b0["identical"]:.1f}%). So spamclf should pass **only
Han runs** to the segmenter, as measured here, use `rjieba.cut(run)` when it is installed and
`jieba.cut(run)` as the pure-Python fallback, and tokenize non-Han text with its own regex. The
features then do not depend on which backend is installed.
"""
    return "\n\n".join(" ".join(p.split("\n")) for p in text.strip().split("\n\n"))


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default = os.environ.get("SPAMCLF_CORPORA", str(Path.home() / ".cache" / "spamclf" / "corpora"))
    ap.add_argument("--corpora", default=default, help="corpora directory (default: %(default)s)")
    ap.add_argument(
        "--out",
        default=str(Path(__file__).with_suffix(".md")),
        help="markdown report path (default: %(default)s)",
    )
    ap.add_argument("--skip-chinese", action="store_true")
    ap.add_argument("--skip-korean", action="store_true")
    args = ap.parse_args(argv)
    corpora = Path(args.corpora).expanduser()
    t_start = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - t_start:6.1f}s] {msg}", flush=True)

    ja = run_japanese()
    log("[ja] sanity checks passed")
    ko, ko_info = run_korean(corpora, log) if not args.skip_korean else ({}, {})
    zh, zh_load, zh_chars = run_chinese(corpora, log) if not args.skip_chinese else ({}, {}, 0)
    if args.skip_korean or args.skip_chinese:
        log("partial run: report not written")
        return
    out = Path(args.out)
    cmd = "python benchmarks/cjk_tokenization.py --corpora ~/.cache/spamclf/corpora"
    write_report(out, cmd, ko, ko_info, ja, zh, zh_load, zh_chars, time.perf_counter() - t_start)
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
