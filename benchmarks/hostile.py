"""Time and memory for hostile messages: each must get a verdict, quickly, in bounded memory.

Each case runs in a fresh interpreter (so peak memory is the case's own) that imports spamclf,
builds the message, and classifies it with the bundled model. Peak memory includes the message
itself. Usage: python benchmarks/hostile.py. Writes benchmarks/hostile.md.
"""

from __future__ import annotations

import subprocess
import sys

from common import ROOT

CASES = {
    "100 MB text body": 'b"Subject: big\\n\\n" + (b"A" * 99 + b"\\n") * 1_000_000',
    "10,000 MIME parts": (
        'b"Content-Type: multipart/mixed; boundary=b\\n\\n" + b"".join('
        'b"--b\\nContent-Type: text/plain\\n\\npart %d\\n" % i for i in range(10_000))'
        ' + b"--b--\\n"'
    ),
    "MIME nested 1,000 deep": (
        'b"Content-Type: multipart/mixed; boundary=b0\\n\\n" + b"".join('
        'b"--b%d\\nContent-Type: multipart/mixed; boundary=b%d\\n\\n" % (i, i + 1) '
        'for i in range(1000)) + b"--b1000\\n\\nleaf\\n"'
    ),
    "1 MB header line": 'b"Subject: " + b"x" * 1_000_000 + b"\\n\\nbody\\n"',
    "1 MB header, 300,000 folds": 'b"Subject: " + b"x\\n " * 300_000 + b"\\n\\nbody\\n"',
    "base64 part of 10 MB": 'b"Content-Transfer-Encoding: base64\\n\\n" + b"QUFB" * 2_500_000',
    "10 MB single line": 'b"Subject: x\\n\\n" + b"word " * 2_000_000',
    "1 MB of binary junk": "__import__('random').Random(0).randbytes(1_000_000)",
}

PROGRAM = """
import resource, time, spamclf
data = {expression}
model = spamclf.default_model()
start = time.perf_counter()
verdict = model.classify(data)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
label = f"{{verdict.label}} {{verdict.score:.3f}}"
print(f"{{len(data) / 1e6:.1f}}|{{seconds:.2f}}|{{peak:.0f}}|{{label}}")
"""


def main() -> None:
    lines = [
        "# Hostile messages",
        "",
        "Reproduce: `python benchmarks/hostile.py`. Default limits (`spamclf.Limits`): messages "
        "are read up to 1 MB, 100 MIME parts, 500 KB per part, 100,000 characters of text.",
        "",
        "| case | size MB | classify s | peak memory MB (whole process) | verdict |",
        "|---|---|---|---|---|",
    ]
    for name, expression in CASES.items():
        out = subprocess.run(
            [sys.executable, "-c", PROGRAM.format(expression=expression)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        size, seconds, peak, verdict = out.stdout.strip().split("|")
        lines.append(f"| {name} | {size} | {seconds} | {peak} | {verdict} |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    (ROOT / "benchmarks" / "hostile.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
