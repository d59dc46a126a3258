"""Worker of benchmarks/evasion.py: vectorizes one corpus's splits and its obfuscated test spam
with the spamclf package of ``--tree`` (this checkout, or an extracted older commit).

Writes, in the cache folder of that tree's feature code: the clean train and test matrices
(:func:`clean_matrices`) and, per obfuscation, ``evasion-<corpus>-<name>-...npz`` with the rows of
the sampled test spam after the obfuscation, plus a JSON file with the sample and counts.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def evasion_stem(corpus: str, name: str, seed: int, sample: int) -> str:
    """The cache file stem of one obfuscated sample; it names the obfuscation code's digest."""
    code = hashlib.sha256((HERE / "obfuscate.py").read_bytes()).hexdigest()[:8]
    return f"evasion-{corpus}-{name}-seed{seed}-n{sample}-{code}"


def spam_sample(labels: list[str], sample: int, seed: int) -> list[int]:
    """Indices of up to ``sample`` test spam, drawn with ``random.Random(seed)``, in order."""
    spam = [i for i, label in enumerate(labels) if label == "spam"]
    return sorted(random.Random(seed).sample(spam, min(sample, len(spam))))


def clean_matrices(corpus: str, root: Path, settings: object, jobs: int) -> None:
    """The clean train and test matrices and labels that benchmarks/evasion.py trains and scores
    on, in the cache folder of the imported spamclf's feature code. Vectorized with the
    package's own ``vectorizer_for``, whose API every compared version shares: the cache of
    ``common.split_matrices`` also stores each row's writing system, which older versions' rows
    do not have."""
    import common
    import numpy as np
    import scipy.sparse as sp
    from tqdm import tqdm

    from spamclf.corpora import split_benchmark
    from spamclf.pipeline import vectorizer_for

    paths = common.cache_paths(corpus, settings)
    if all(p.exists() and p.with_suffix(".labels.npy").exists() for p in paths.values()):
        return
    paths["train"].parent.mkdir(parents=True, exist_ok=True)
    train, test = split_benchmark(corpus, root)
    for part, messages in (("train", train), ("test", test)):
        bar = tqdm(total=len(messages), unit="msg", desc=f"{corpus} {part}", mininterval=5)
        vectorizer = vectorizer_for(settings, n_jobs=jobs, progress=bar.update)
        sp.save_npz(paths[part], vectorizer.fit_transform([m.raw for m in messages]))
        bar.close()
        labels = np.array([m.label == "spam" for m in messages], dtype=np.int8)
        np.save(paths[part].with_suffix(".labels.npy"), labels)


def package_folder() -> str:
    """Where this process imported spamclf from (run in the worker processes too)."""
    import spamclf

    return str(Path(spamclf.__file__).resolve().parent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", required=True, help="folder holding the spamclf package")
    parser.add_argument("--corpora", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--obfuscations", required=True, help="comma-separated names")
    parser.add_argument("--sample", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    # The tree's spamclf is imported before common, which puts this checkout first on the
    # path: later imports of spamclf then resolve to the package already loaded. The worker
    # processes that vectorize start afresh, with a copy of this process's path and
    # environment: without care they import the checkout that pip installed in editable mode.
    tree = str(Path(args.tree).resolve())
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [tree, str(HERE), os.environ.get("PYTHONPATH")])
    )
    sys.path.insert(0, tree)
    sys.path.insert(1, str(HERE))
    spamclf = importlib.import_module("spamclf")

    import common
    from obfuscate import ham_fillers, obfuscate, part_texts

    from spamclf.corpora import split_benchmark
    from spamclf.model import ModelSettings
    from spamclf.pipeline import vectorizer_for

    # common put this checkout first on the path, and the worker processes copy the path.
    sys.path.insert(0, tree)
    expected = str(Path(tree) / "spamclf")
    import joblib

    found = joblib.Parallel(n_jobs=args.jobs)(joblib.delayed(package_folder)() for _ in range(4))
    for folder_found in {package_folder(), *found}:
        if folder_found != expected:
            sys.exit(f"spamclf was imported from {folder_found}, not from {expected}")
    print(f"spamclf from {Path(spamclf.__file__).parent}", flush=True)
    root = Path(args.corpora)
    settings = ModelSettings()
    clean_matrices(args.corpus, root, settings, args.jobs)
    folder = common.cache_folder(settings.n_features)
    names = args.obfuscations.split(",")
    todo = [
        n
        for n in names
        if not (folder / f"{evasion_stem(args.corpus, n, args.seed, args.sample)}.npz").exists()
    ]
    if not todo:
        return
    train, test = split_benchmark(args.corpus, root)
    chosen = spam_sample([m.label for m in test], args.sample, args.seed)
    rng = random.Random(args.seed)
    ham = [m.raw for m in train if m.label == "ham"]
    fillers = ham_fillers(
        [text for raw in rng.sample(ham, min(600, len(ham))) for text in part_texts(raw)], rng
    )
    del train, ham
    import scipy.sparse as sp
    from tqdm import tqdm

    for name in todo:
        stem = evasion_stem(args.corpus, name, args.seed, args.sample)
        messages, rewritten = [], 0
        for i in chosen:
            raw, parts = obfuscate(test[i].raw, name, args.seed, fillers)
            messages.append(raw)
            rewritten += parts > 0
        bar = tqdm(total=len(messages), unit="msg", desc=f"{args.corpus} {name}", mininterval=5)
        X = vectorizer_for(settings, n_jobs=args.jobs, progress=bar.update).fit_transform(messages)
        bar.close()
        sp.save_npz(folder / f"{stem}.npz", X)
        info = {"test_indices": chosen, "rewritten": rewritten, "fillers": len(fillers)}
        (folder / f"{stem}.json").write_text(json.dumps(info), encoding="utf-8")


if __name__ == "__main__":
    main()
