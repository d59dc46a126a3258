#!/usr/bin/env bash
# Run the atheris target for SECONDS in JOBS independent libFuzzer processes that share one
# corpus (libFuzzer's -jobs/-workers), then add up what they did.
#
#   fuzz/run_fuzz.sh [JOBS] [SECONDS] [WORKDIR]
#
# JOBS defaults to 1, SECONDS to 3600, WORKDIR to fuzz/work (git-ignored): the shared corpus,
# each process's log (fuzz-N.log) and any finding (crash-*, timeout-*, oom-*) land there.
# Use the Python that has spamclf and atheris first on PATH (e.g. `PATH=.venv/bin:$PATH`).
# On a shared machine prefix `nice -n 19`. benchmarks/fuzzing.md records the runs.
set -euo pipefail
jobs=${1:-1}
seconds=${2:-3600}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${3:-$root/fuzz/work}
mkdir -p "$work/corpus"
cp -n "$root"/fuzz/seeds/* "$root"/tests/fixtures/*.eml "$work/corpus/" 2>/dev/null || true
cd "$work"
# -timeout: one input running 10 s is a hang and a finding (the time budget in Limits is 1 s).
# -rss_limit_mb: a process over 2 GB is a finding (the target is 500 MB per message).
python3 "$root/fuzz/fuzz_classify.py" corpus \
    -jobs="$jobs" -workers="$jobs" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$work/" || true
python3 - "$work" <<'PY'
import pathlib, re, sys

work = pathlib.Path(sys.argv[1])
runs = cov = ft = 0
for log in sorted(work.glob("fuzz-*.log")):
    text = log.read_text(errors="replace")
    runs += sum(int(n) for n in re.findall(r"stat::number_of_executed_units: (\d+)", text))
    cov = max([cov, *(int(n) for n in re.findall(r"cov: (\d+)", text))])
    ft = max([ft, *(int(n) for n in re.findall(r"ft: (\d+)", text))])
findings = sorted(p.name for p in work.iterdir() if re.match(r"(crash|timeout|oom|leak)-", p.name))
print(f"processes: {len(list(work.glob('fuzz-*.log')))}")
print(f"executions: {runs}")
print(f"max coverage (edges): {cov}, features: {ft}")
print(f"corpus files: {len(list((work / 'corpus').iterdir()))}")
print(f"findings: {findings or 'none'}")
PY
