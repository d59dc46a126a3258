"""``spamclf serve`` against SpamAssassin's own spamd, under load from real ``spamc`` clients.

Both servers listen on loopback and get the same messages: N messages sampled with a fixed seed
from the trec06p and trec06c test splits (half each; messages over 500 KB, which spamc skips
by default, are left out). C threads each run ``spamc -c -x`` (a new client process per message,
as an MTA does) until every message has been sent once. Reported: messages per second over the
whole run, and the latency of each request as the client sees it (spamc's process start,
connect, send, scan, reply). A request fails unless spamc exits 0 or 1 and prints
``score/threshold``.

SpamAssassin runs as ``spamd -L`` (local tests only, no network) with its stock rules and
defaults (5 children), as user debian-spamd, with a Bayes database trained by ``sa-learn`` on
``--bayes-messages`` messages of the same corpora's training splits, so its Bayes rules fire.
spamd scans the first ``--spamd-messages`` of the same messages, since it is slow. spamclf
serves the bundled model; it is also driven at a fixed arrival rate (``--rate``) and by 16
threads speaking the protocol on raw sockets (its capacity without a spamc process per
message). The soak (``--soak-minutes``) drives spamclf alone for that long, cycling through the
messages, and sends SIGHUP (a model reload) every minute. Timed parts hold
/tmp/spamclf-timing.lock, so runs on the shared machine take turns.

Usage: python benchmarks/spamd_load.py [--messages 2000] [--spamd-messages 500] [--clients 16]
       [--soak-minutes 10] [--only load|probe|soak]
Writes benchmarks/spamd_load.json (each part's numbers) and benchmarks/spamd_load.md.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from common import ROOT, commit, corpora_dir, uptime

from spamclf.corpora import split_benchmark

SPAMC_LIMIT = 500 * 1024  # spamc -s default: larger messages are skipped by the client
RESULT = re.compile(rb"-?\d+(\.\d+)?/\d+(\.\d+)?\n")
WORK = Path("/tmp/spamclf-spamd-bench")
JSON_PATH = ROOT / "benchmarks" / "spamd_load.json"
MD_PATH = ROOT / "benchmarks" / "spamd_load.md"
TIMING_LOCK = "/tmp/spamclf-timing.lock"  # timed runs on this shared machine take turns


@contextmanager
def timing_lock(result: dict[str, object], suffix: str = "") -> Iterator[None]:
    """Hold the machine's timing lock (not while sampling or training Bayes), noting the load."""
    with open(TIMING_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result[f"uptime_before{suffix}"] = uptime()
        try:
            yield
        finally:
            result[f"uptime_after{suffix}"] = uptime()
            fcntl.flock(lock, fcntl.LOCK_UN)


def sample(root: Path, n: int, seed: int) -> tuple[list[bytes], list[bytes], list[bool]]:
    """``n`` test messages (half trec06p, half trec06c) and Bayes training messages."""
    rng = random.Random(seed)
    test: list[bytes] = []
    train: list[tuple[bytes, bool]] = []
    for corpus in ("trec06p", "trec06c"):
        train_split, test_split = split_benchmark(corpus, root)
        small = [m.raw for m in test_split if len(m.raw) <= SPAMC_LIMIT]
        test += rng.sample(small, n // 2)
        train += [(m.raw, m.label == "spam") for m in rng.sample(train_split, 2000)]
    rng.shuffle(test)
    return test, [raw for raw, _ in train], [spam for _, spam in train]


@dataclass
class Run:
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, float | int | list[str]]:
        ordered = sorted(self.latencies_ms)

        def pct(q: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

        return {
            "requests": len(ordered) + len(self.failures),
            "failed": len(self.failures),
            "failure_samples": self.failures[:5],
            "seconds": round(self.seconds, 1),
            "msg_per_s": round((len(ordered) + len(self.failures)) / self.seconds, 1),
            "p50_ms": pct(0.50),
            "p90_ms": pct(0.90),
            "p99_ms": pct(0.99),
            "max_ms": round(ordered[-1], 1),
        }


def drive(
    port: int,
    messages: list[Path],
    clients: int,
    minutes: float = 0.0,
    every_minute: object = None,
    rate: float = 0.0,
) -> Run:
    """Send every message once (or cycle until ``minutes`` pass) from ``clients`` threads.

    Each message is a file that becomes spamc's stdin, so the driver only reads spamc's one
    line of output. With ``rate``, requests start on a fixed schedule (that many per second
    in all, open loop, as mail arrives) instead of as fast as the clients can go.
    """
    run = Run()
    lock = threading.Lock()
    next_index = [0]
    start = time.perf_counter()
    deadline = time.monotonic() + minutes * 60
    command = ["spamc", "-c", "-x", "-t", "60", "-d", "127.0.0.1", "-p", str(port)]

    def take() -> int | None:
        with lock:
            i = next_index[0]
            next_index[0] += 1
        if minutes:
            return i if time.monotonic() < deadline else None
        return i if i < len(messages) else None

    def client() -> None:
        while (i := take()) is not None:
            if rate:
                time.sleep(max(0.0, start + i / rate - time.perf_counter()))
            with messages[i % len(messages)].open("rb") as stdin:
                began = time.perf_counter()
                out = subprocess.run(command, stdin=stdin, capture_output=True, check=False)
                elapsed = (time.perf_counter() - began) * 1000
            with lock:
                if out.returncode in (0, 1) and RESULT.fullmatch(out.stdout):
                    run.latencies_ms.append(elapsed)
                else:
                    run.failures.append(f"exit {out.returncode}: {out.stdout[:60]!r}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    if callable(every_minute):
        tick = time.monotonic() + 60
        while any(t.is_alive() for t in threads):
            time.sleep(0.5)
            if time.monotonic() >= tick:
                every_minute()
                tick += 60
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - start
    return run


def drive_raw(port: int, messages: list[Path], clients: int) -> Run:
    """Like :func:`drive`, but each client is a thread speaking SPAMC/1.5 on a socket: the
    server's own latency, without starting a spamc process per message."""
    run = Run()
    lock = threading.Lock()
    queue = [path.read_bytes() for path in messages]
    next_index = [0]

    def client() -> None:
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= len(queue):
                return
            message = queue[i]
            request = f"CHECK SPAMC/1.5\r\nContent-length: {len(message)}\r\n\r\n".encode()
            began = time.perf_counter()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
                    conn.sendall(request + message)
                    reply = b""
                    while chunk := conn.recv(4096):
                        reply += chunk
            except OSError as exc:
                reply = str(exc).encode()
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                if reply.startswith(b"SPAMD/1.1 0 EX_OK\r\nSpam: "):
                    run.latencies_ms.append(elapsed)
                else:
                    run.failures.append(repr(reply[:60]))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - start
    return run


def as_files(messages: list[bytes]) -> list[Path]:
    folder = WORK / "messages"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, raw in enumerate(messages):
        path = folder / f"{i}.eml"
        path.write_bytes(raw)
        paths.append(path)
    return paths


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(port: int, process: subprocess.Popen, seconds: float = 120) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited with {process.returncode}")
        ping = subprocess.run(["spamc", "-K", "-p", str(port)], capture_output=True, check=False)
        if ping.returncode == 0 and ping.stdout.startswith(b"SPAMD/1.5 0"):
            return
        time.sleep(0.5)
    sys.exit("server did not answer PING")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu(who: int, before: resource.struct_rusage) -> float:
    after = resource.getrusage(who)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_spamclf(port: int, *options: str) -> subprocess.Popen:  # type: ignore[type-arg]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "spamclf",
            "serve",
            "--listen",
            f"127.0.0.1:{port}",
            "--log-level",
            "WARNING",
            *options,
        ],
        cwd=ROOT,
    )
    wait_ready(port, process)
    return process


def train_bayes(train: list[bytes], is_spam: list[bool], n: int) -> Path:
    """A SpamAssassin site config that adds a Bayes database trained on ``n`` messages."""
    for old in ("etc", "bayes", "spam", "ham"):
        shutil.rmtree(WORK / old, ignore_errors=True)
    etc = WORK / "etc"
    shutil.copytree("/etc/spamassassin", etc, symlinks=True)
    bayes = WORK / "bayes"
    bayes.mkdir()
    (etc / "99_benchmark.cf").write_text(
        f"bayes_path {bayes}/bayes\nbayes_file_mode 0777\nuse_bayes 1\nbayes_auto_learn 0\n"
        "bayes_auto_expire 0\nlock_method flock\n"
    )
    for label in ("spam", "ham"):
        folder = WORK / label
        folder.mkdir()
        chosen = [
            raw for raw, spam in zip(train, is_spam, strict=True) if spam == (label == "spam")
        ]
        for i, raw in enumerate(chosen[: n // 2]):
            (folder / f"{i}.eml").write_bytes(raw)
        subprocess.run(
            [
                "nice",
                "-n",
                "19",
                "sa-learn",
                "--siteconfigpath",
                str(etc),
                f"--{label}",
                str(folder),
            ],
            check=True,
            capture_output=True,
        )
    subprocess.run(["chown", "-R", "debian-spamd:debian-spamd", str(bayes)], check=True)
    return etc


def start_spamd(port: int, etc: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    log = (WORK / "spamd.log").open("ab")
    process = subprocess.Popen(
        [
            "spamd",
            "-L",
            "-u",
            "debian-spamd",
            "-x",
            "--siteconfigpath",
            str(etc),
            "--listen",
            f"127.0.0.1:{port}",
            "--syslog",
            "stderr",
            "--pidfile",
            str(WORK / "spamd.pid"),
        ],
        stdout=log,
        stderr=log,
    )
    wait_ready(port, process)
    return process


def stop(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def load_part(
    messages: list[Path], train: list[bytes], is_spam: list[bool], args: argparse.Namespace
) -> dict[str, object]:
    if not args.no_spamd:
        etc = train_bayes(train, is_spam, args.bayes_messages)  # not timed, not under the lock
    result: dict[str, object] = {}
    with timing_lock(result):
        port = free_port()
        server = start_spamclf(port)
        drive(port, messages[:100], args.clients)  # warm up
        cpu = cpu_seconds(server.pid)
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        run = drive(port, messages, args.clients)
        server_cpu = cpu_seconds(server.pid) - cpu
        result["spamclf"] = run.summary()
        result["spamclf_server_cpu_share"] = round(server_cpu / run.seconds, 2)
        # CPU per request, in ms: where the two cores go at saturation.
        result["cpu_ms_per_request"] = {
            "server": round(server_cpu * 1000 / len(messages), 2),
            "spamc": round(_cpu(resource.RUSAGE_CHILDREN, children) * 1000 / len(messages), 2),
            "driver": round(_cpu(resource.RUSAGE_SELF, own) * 1000 / len(messages), 2),
        }
        if args.rate:
            result["spamclf_at_rate"] = drive(
                port, messages, args.clients, rate=args.rate
            ).summary()
        result["spamclf_raw_socket"] = drive_raw(port, messages, args.clients).summary()
        stop(server)
    if not args.no_spamd:
        with timing_lock(result, "_spamd"):
            port = free_port()
            spamd = start_spamd(port, etc)
            drive(port, messages[-32:], args.clients)  # warm up its children
            subset = messages[: args.spamd_messages]
            result["spamd"] = drive(port, subset, args.clients).summary()
            stop(spamd)
    return result


def servers_part(messages: list[Path], args: argparse.Namespace) -> dict[str, object]:
    """One server, then two sharing the port (``--reuse-port``): raw sockets and spamc."""
    result: dict[str, object] = {}
    with timing_lock(result):
        for count in (1, 2):
            port = free_port()
            servers = [start_spamclf(port, "--reuse-port") for _ in range(count)]
            drive_raw(port, messages[:400], args.clients)  # warm up every server
            result[f"{count}_raw_socket"] = drive_raw(port, messages, args.clients).summary()
            result[f"{count}_spamc"] = drive(port, messages, args.clients).summary()
            for server in servers:
                stop(server)
    return result


def soak_part(messages: list[Path], args: argparse.Namespace) -> dict[str, object]:
    result: dict[str, object] = {"minutes": args.soak_minutes}
    with timing_lock(result):
        port = free_port()
        server = start_spamclf(port)
        rss_before = rss_mb(server.pid)
        reloads = [0]

        def reload() -> None:
            server.send_signal(signal.SIGHUP)
            reloads[0] += 1

        run = drive(port, messages, args.clients, minutes=args.soak_minutes, every_minute=reload)
        result["spamclf"] = run.summary()
        result["reloads"] = reloads[0]
        result["rss_mb_start"] = round(rss_before, 1)
        result["rss_mb_end"] = round(rss_mb(server.pid), 1)
        stop(server)
        result["exit_code"] = server.returncode
    return result


def probe_part(messages: list[Path]) -> dict[str, object]:
    """How much of a core this process gets: ``Model.classify`` alone, in one thread, wall
    time against CPU time. On an idle core the two are equal."""
    from spamclf.api import default_model

    model = default_model()
    raws = [path.read_bytes() for path in messages]
    model.classify(raws[0])
    wall: list[float] = []
    cpu_total = 0.0
    result: dict[str, object] = {}
    with timing_lock(result):
        for raw in raws:
            began, began_cpu = time.perf_counter(), time.thread_time()
            model.classify(raw)
            wall.append((time.perf_counter() - began) * 1000)
            cpu_total += time.thread_time() - began_cpu
    wall.sort()
    result["wall_ms_mean"] = round(sum(wall) / len(wall), 2)
    result["cpu_ms_mean"] = round(cpu_total * 1000 / len(wall), 2)
    result["wall_ms_p99"] = round(wall[int(0.99 * len(wall))], 1)
    return result


def _row(name: str, kind: str, row: dict) -> str:  # type: ignore[type-arg]
    return (
        f"| {name} | {kind} | {row['requests']} | {row['failed']} | {row['msg_per_s']} | "
        f"{row['p50_ms']} | {row['p90_ms']} | {row['p99_ms']} | {row['max_ms']} |"
    )


def write_markdown(data: dict[str, dict]) -> None:  # type: ignore[type-arg]
    lines = [
        "# spamclf serve against SpamAssassin's spamd, under load from spamc",
        "",
        "Reproduce: `python benchmarks/spamd_load.py --messages 2000 --spamd-messages 500` (the "
        "comparison, two servers on one port, and the probe of how busy the machine was; "
        "`--only load`, `--only servers` or `--only probe` for one), then "
        "`python benchmarks/spamd_load.py --only soak --soak-minutes 10`. The "
        "script holds `/tmp/spamclf-timing.lock` while it measures (not while it samples "
        "messages or trains SpamAssassin's Bayes). Machine: 2 cores, shared with other jobs "
        "(load averages below); spamc clients, the driver and the server share those 2 cores.",
        "",
    ]
    load = data.get("load")
    if load:
        spamclf, spamd = load["spamclf"], load.get("spamd")
        cpu = load["cpu_ms_per_request"]
        lines += [
            f"## {load['messages']} messages, {load['clients']} concurrent clients",
            "",
            f"Commit measured: {load.get('commit', 'not recorded')}.",
            "",
            f"Messages: {load['messages']} sampled with seed {load['seed']} from the trec06p and "
            f"trec06c test splits (half each, at most 500 KB, spamc's default limit). "
            f"SpamAssassin {load['sa_version']}: `spamd -L` (stock rules, no network tests, its "
            f"default 5 children), Bayes trained with sa-learn on {load['bayes_messages']} "
            f"messages of the training splits; it scans the first {load['spamd_messages']} of "
            "the same messages (at its speed all 2,000 would hold the shared machine's timing "
            "lock for 9 minutes). spamclf: the bundled model, one process.",
            "",
            "- *saturated*: 16 threads each run `spamc -c` on their next message as soon as the "
            "last one is answered (a new spamc process per message, as an MTA does);",
            f"- *at {load['rate']:g} msg/s*: the same clients, but requests start on a fixed "
            "schedule, as mail arrives at an MTA (open loop);",
            "- *raw socket*: 16 threads speak SPAMC/1.5 on sockets themselves, no spamc process: "
            "the server's capacity without the cost of starting spamc.",
            "",
            "| server | clients | requests | failed | msg/s | p50 ms | p90 ms | p99 ms | max ms |",
            "|---|---|---|---|---|---|---|---|---|",
            _row("spamclf serve", "16 spamc, saturated", spamclf),
        ]
        if load.get("spamclf_at_rate"):
            kind = f"16 spamc, at {load['rate']:g} msg/s"
            lines.append(_row("spamclf serve", kind, load["spamclf_at_rate"]))
        lines.append(_row("spamclf serve", "16 raw sockets", load["spamclf_raw_socket"]))
        if spamd:
            lines.append(_row("SpamAssassin spamd", "16 spamc, saturated", spamd))
        lines.append("")
        if spamd:
            ratio = spamclf["msg_per_s"] / spamd["msg_per_s"]
            # One decimal and a verdict: rounded to a whole number, 19.5x read as "20x".
            lines.append(
                f"With 16 spamc clients, spamclf answers **{ratio:.1f}x** the messages per second "
                f"of spamd (target 20x: {'met' if ratio >= 20 else 'NOT met'}); its p99 latency "
                f"is {spamclf['p99_ms']} ms saturated and "
                f"{load.get('spamclf_at_rate', {}).get('p99_ms', '?')} ms at "
                f"{load['rate']:g} msg/s (target under 50 ms: "
                f"{'met' if spamclf['p99_ms'] < 50 else 'NOT met'})."
            )
            lines.append("")
        mean_ms = 16_000 / spamclf["msg_per_s"]
        total_cpu = cpu["server"] + cpu["spamc"] + cpu["driver"]
        lines += [
            "With 16 clients that always have a request outstanding, the mean latency is "
            f"16 / throughput (Little's law): {mean_ms:.1f} ms at {spamclf['msg_per_s']} msg/s, "
            "so a p99 under 50 ms needs both the throughput and a narrow spread. At a steady "
            f"{load['rate']:g} msg/s the median request takes "
            f"{load.get('spamclf_at_rate', {}).get('p50_ms', '?')} ms.",
            "",
            f"Where the CPU goes, per request, in the saturated spamc run: server {cpu['server']} "
            f"ms, spamc process {cpu['spamc']} ms, driver {cpu['driver']} ms; "
            f"{total_cpu:.2f} ms in all, on 2 cores shared with the machine's other jobs, which "
            f"caps this run near {2000 / total_cpu:.0f} msg/s. The server used "
            f"{load['spamclf_server_cpu_share']:.2f} of a core.",
            "",
            f"Load when spamclf was measured: before `{load['uptime_before']}`, after "
            f"`{load['uptime_after']}`.",
        ]
        if spamd:
            lines.append(
                f"Load when spamd was measured: before `{load['uptime_before_spamd']}`, after "
                f"`{load['uptime_after_spamd']}`."
            )
        lines.append("")
    probe = data.get("probe")
    if probe:
        lines += [
            "## How much of a core a process got",
            "",
            f"Commit measured: {probe.get('commit', 'not recorded')}.",
            "",
            f"`Model.classify` alone, in one thread, on the same {probe['messages']} messages: "
            f"{probe['wall_ms_mean']} ms of wall time per message on average for "
            f"{probe['cpu_ms_mean']} ms of CPU (p99 {probe['wall_ms_p99']} ms of wall time), "
            f"with load `{probe['uptime_before']}` before and `{probe['uptime_after']}` after "
            "(`--only probe`). On an idle core wall and CPU time would be equal.",
            "",
        ]
    servers = data.get("servers")
    if servers:
        lines += [
            f"## More cores: servers sharing one port ({servers['clients']} clients)",
            "",
            f"Commit measured: {servers['commit']}.",
            "",
            "One `spamclf serve` scores on one core. `--reuse-port` lets several listen on the "
            "same TCP port, and the kernel shares the connections among them. Each server here "
            "is a process started with `--reuse-port`; the clients are as above.",
            "",
            "| servers | clients | requests | failed | msg/s | p50 ms | p90 ms | p99 ms | max ms |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for count in (1, 2):
            lines.append(_row(str(count), "16 raw sockets", servers[f"{count}_raw_socket"]))
            lines.append(_row(str(count), "16 spamc, saturated", servers[f"{count}_spamc"]))
        lines += [
            "",
            f"Load: before `{servers['uptime_before']}`, after `{servers['uptime_after']}`.",
            "",
        ]
    soak = data.get("soak")
    if soak:
        row = soak["spamclf"]
        lines += [
            f"## Soak: {soak['minutes']:g} minutes, {soak['clients']} concurrent spamc clients",
            "",
            f"Commit measured: {soak.get('commit', 'not recorded')}.",
            "",
            f"spamclf serve alone, saturated by 16 spamc clients cycling through the same "
            f"{soak['messages']} messages, with a SIGHUP (model reload) every minute "
            f"({soak['reloads']} reloads).",
            "",
            "| requests | failed | msg/s | p50 ms | p90 ms | p99 ms | max ms | server RSS |",
            "|---|---|---|---|---|---|---|---|",
            f"| {row['requests']} | {row['failed']} | {row['msg_per_s']} | {row['p50_ms']} | "
            f"{row['p90_ms']} | {row['p99_ms']} | {row['max_ms']} | {soak['rss_mb_start']} MB "
            f"at start, {soak['rss_mb_end']} MB at end |",
            "",
            f"Server exit code after SIGTERM: {soak['exit_code']}. Failure samples: "
            f"{row['failure_samples'] or 'none'}. The first RSS is taken before the first "
            "message, so it leaves out what loads on first use (the Chinese segmentation "
            "dictionary).",
            "",
            f"Load: before `{soak['uptime_before']}`, after `{soak['uptime_after']}`.",
            "",
        ]
    MD_PATH.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bayes-messages", type=int, default=1000)
    parser.add_argument(
        "--spamd-messages",
        type=int,
        default=500,
        help="spamd scans the first N of the same messages (it is slow)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=100.0,
        help="also measure spamclf with requests arriving at this rate (msg/s)",
    )
    parser.add_argument("--no-spamd", action="store_true", help="measure spamclf alone")
    parser.add_argument("--soak-minutes", type=float, default=0.0)
    parser.add_argument("--only", choices=("load", "soak", "probe", "servers"))
    args = parser.parse_args()
    for tool in ("spamc", "spamd", "sa-learn"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install spamc spamd spamassassin")

    root = corpora_dir(args.corpora)
    print("sampling messages", file=sys.stderr)
    raw_messages, train, is_spam = sample(root, args.messages, args.seed)
    shutil.rmtree(WORK, ignore_errors=True)
    messages = as_files(raw_messages)
    data = json.loads(JSON_PATH.read_text()) if JSON_PATH.exists() else {}
    common = {
        "messages": len(messages),
        "clients": args.clients,
        "seed": args.seed,
        "commit": commit(),
    }
    if args.only in (None, "load"):
        print("load: spamclf, then spamd", file=sys.stderr)
        version = subprocess.run(["spamd", "--version"], capture_output=True, text=True).stdout
        data["load"] = {
            **common,
            "rate": args.rate,
            "spamd_messages": min(args.spamd_messages, len(messages)),
            "bayes_messages": args.bayes_messages,
            "sa_version": version.split("version")[1].split()[0] if "version" in version else "?",
            **load_part(messages, train, is_spam, args),
        }
    if args.only in (None, "probe"):
        data["probe"] = {"messages": len(messages), "commit": commit(), **probe_part(messages)}
    if args.only in (None, "servers"):
        print("servers: one, then two on one port", file=sys.stderr)
        data["servers"] = {**common, **servers_part(messages, args)}
    if args.soak_minutes and args.only in (None, "soak"):
        print(f"soak: {args.soak_minutes} minutes", file=sys.stderr)
        data["soak"] = {**common, **soak_part(messages, args)}
    JSON_PATH.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    write_markdown(data)
    print(MD_PATH.read_text())


if __name__ == "__main__":
    main()
