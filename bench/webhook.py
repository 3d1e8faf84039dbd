"""Webhook throughput and latency under the production gunicorn config, against baselines.

Measures, in one run, on 127.0.0.1 only:
1. requests/s and p50/p99 for signed Cloud API posts, closed loop (wrk), side by side: a bare
   Flask route, pywa, the floor of the ack path's requirements (verify, load with marshmallow,
   insert into SQLite), the gateway's ack path and the gateway answering every text (one
   question, then new questions), and the answered messages per second;
2. p50/p99 at a fixed request rate with a bot that takes 5 s against an instant bot (the bot is
   the gateway's OpenAI-compatible client talking to the fake provider's LLM endpoint);
3. a burst: `--burst` people (2,000) each writing once within 20 s to a bot taking 0.5 s: how
   long the backlog takes to drain against the time the answering threads allow, and how long
   people wait for their answer.

Every load loop is bounded in time. Usage: `make bench`, or
`python -m bench.webhook [--seconds 8] [--connections 8] [--rate 40]`.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

import requests

from app.config import load_server_settings
from app.config import load_settings as gateway_settings
from tests.fake_provider import FakeProvider
from tests.server import Gunicorn

SECRET = "bench-app-secret"
PATH = "/api/v1/whatsapp/webhook"
WRK_SCRIPT = str(Path(__file__).with_name("wrk.lua"))
EVAL = Path(__file__).with_name("eval")


def signed_post(n: int, people: int = 50, text: str = "What can you do?",
                kind: str = "text") -> tuple[bytes, dict]:
    """A signed Cloud API message, new each time, from one of `people`: a text, or a
    reaction (stored, and needing no answer)."""
    wa_id = f"346{n % people:08d}"
    content = ({"type": "reaction", "reaction": {"message_id": "wamid.ours1", "emoji": "👍"}}
               if kind == "reaction" else {"type": "text", "text": {"body": text}})
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": {
                "display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"wa_id": wa_id, "user_id": f"ES.{n % people}",
                          "profile": {"name": "Bench"}}],
            "messages": [{"from": wa_id, "id": f"wamid.bench{n}-{time.time_ns()}",
                          "timestamp": str(int(time.time())), **content}]}}]}]}).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}


class Recorder:
    """Latencies of 200 answers and counts of anything else."""

    def __init__(self):
        self.latencies: list[float] = []
        self.failures: Counter = Counter()
        self.lock = threading.Lock()
        self.local = threading.local()

    def post(self, url: str, n: int) -> None:
        session = getattr(self.local, "session", None) or requests.Session()
        self.local.session = session
        body, headers = signed_post(n)
        start = time.perf_counter()
        try:
            status = session.post(url, data=body, headers=headers, timeout=10).status_code
        except requests.RequestException as err:
            status = type(err).__name__
        elapsed = time.perf_counter() - start
        with self.lock:
            if status == 200:
                self.latencies.append(elapsed)
            else:
                self.failures[status] += 1

    def summary(self, seconds: float) -> dict:
        ordered = sorted(self.latencies)

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0

        return {"rps": len(ordered) / seconds, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
                "ok": len(ordered), "failed": dict(self.failures)}


def closed_loop(url: str, connections: int, seconds: float) -> dict:
    """`connections` clients posting back to back for `seconds`."""
    recorder, deadline, counter = Recorder(), time.monotonic() + seconds, iter(range(10**9))

    def client():
        while time.monotonic() < deadline:
            recorder.post(url, next(counter))

    threads = [threading.Thread(target=client) for _ in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return recorder.summary(time.monotonic() - started)


def fixed_rate(url: str, rate: float, seconds: float) -> dict:
    """Posts started at `rate` per second for `seconds` (latency from each post's start)."""
    recorder = Recorder()
    with ThreadPoolExecutor(32) as pool:
        started = time.monotonic()
        for n in range(int(rate * seconds)):
            time.sleep(max(0.0, started + n / rate - time.monotonic()))
            pool.submit(recorder.post, url, n)
    return recorder.summary(seconds)


def burst(url: str, fake: FakeProvider, people: int, seconds: float, delay: float,
          pool: int) -> dict:
    """`people` each post one message, spread over `seconds`; wait (bounded) for every answer.
    The drain runs from the first post to the last answer; a wait, from a post to its answer."""
    posted: dict[str, float] = {}
    failures: Counter = Counter()
    session = requests.Session()
    first = time.monotonic()
    before = len(fake.sent)
    with ThreadPoolExecutor(16) as senders:
        def send(n: int) -> None:
            # A question the documents answer: the LLM (0.5 s) writes every answer.
            body, headers = signed_post(n, people, "¿Hacéis envíos a Portugal?")
            posted[f"346{n:08d}"] = time.monotonic()
            try:
                status = session.post(url, data=body, headers=headers, timeout=30).status_code
            except requests.RequestException as err:
                status = type(err).__name__
            if status != 200:
                failures[status] += 1
        for n in range(people):
            time.sleep(max(0.0, first + n * seconds / people - time.monotonic()))
            senders.submit(send, n)
    allowed = people * delay / pool
    deadline = time.monotonic() + 3 * allowed + 60
    while len(fake.sent) - before < people and time.monotonic() < deadline:
        time.sleep(0.2)
    answers = Counter(entry["to"] for entry in fake.sent[before:])
    last = {entry["to"]: entry["at"] for entry in fake.sent[before:]}
    waits = sorted(last[wa_id] - at for wa_id, at in posted.items() if wa_id in last)
    drained = max(last.values()) - first if last else float("nan")
    return {"drain_s": drained, "allowed_s": allowed, "answered": len(last),
            "doubled": sum(1 for count in answers.values() if count > 1),
            "median_wait_s": waits[len(waits) // 2] if waits else float("nan"),
            "worst_wait_s": waits[-1] if waits else float("nan"), "failed": dict(failures)}


def body_file(path: str, count: int, kind: str, text: str | Callable[[int], str] = "") -> str:
    """`count` signed posts, each with its own message id, as wrk.lua reads them; `text` may
    be a function of the post's number."""
    with open(path, "w", encoding="utf-8") as out:
        for n in range(count):
            body, headers = signed_post(n, 500, text(n) if callable(text) else text, kind)
            out.write(f"{headers['X-Hub-Signature-256']}\t{body.decode()}\n")
    return path


def distinct_file(path: str, count: int) -> str:
    """`count` signed posts, each a question no earlier post asked: the turns of the eval
    sets, each with a number, so that no answer comes from the question cache."""
    turns = [turn["text"] for name in sorted(EVAL.glob("*.jsonl"))
             for line in name.read_text(encoding="utf-8").splitlines() if line.strip()
             for turn in json.loads(line)["turns"]]
    return body_file(path, count, "text", lambda n: f"{turns[n % len(turns)]} {n}")


def drained(fake: FakeProvider, before: int, accepted: int, started: float) -> tuple[int, float]:
    """Wait (bounded) until `accepted` answers went out after `before`; how many went out,
    and their rate from `started` to the last one."""
    deadline = time.monotonic() + 300
    while len(fake.sent) - before < accepted and time.monotonic() < deadline:
        time.sleep(0.1)
    answered = len(fake.sent) - before
    last = max((e["at"] for e in fake.sent[before:]), default=started)
    return answered, answered / max(1e-9, last - started)


def run_wrk(url: str, bodies: str, offset: int, connections: int, seconds: float) -> dict:
    """wrk (2 threads) posting `bodies` from line `offset` for `seconds`; its figures, and its
    share of the machine's CPU (from its own rusage)."""
    process = subprocess.Popen(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "-s",
         WRK_SCRIPT, url.rsplit(PATH, 1)[0], "--", bodies, "2", PATH, str(offset)],
        stdout=subprocess.PIPE, text=True)
    started = time.monotonic()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    output = process.stdout.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed: {output}")
    result = json.loads(output.strip().splitlines()[-1])
    result["rps"] = result["requests"] / result["seconds"]
    result["cpu_share"] = (usage.ru_utime + usage.ru_stime) / (wall * os.cpu_count())
    return result


def interleaved(args, fake: FakeProvider, tmp: str) -> None:
    """Part 1: the bare route, pywa, the floor of the ack path's requirements
    (`bench/floor_app.py`), the gateway's ack path and the gateway answering every text, each
    under the same gunicorn config, side by side; wrk rotates over them, run after
    run, and an answering run's backlog is drained before the next run starts."""
    if shutil.which("wrk") is None:
        print("\n1. skipped: wrk is not installed (`make bench` installs Debian's where it may)")
        return
    # Enough lines that no run posts an id an earlier run of the same app posted (at up to
    # 4,000 req/s; the bare route, faster, ignores ids).
    per_run = int(args.seconds * 4000)
    count = (args.repeat + 1) * per_run
    texts = body_file(f"{tmp}/texts.txt", count, "text", "¿Hacéis envíos a Portugal?")
    reactions = body_file(f"{tmp}/reactions.txt", count, "reaction")
    offline = {"LLM_PROVIDER": "offline", "WHATSAPP_API_BASE_URL": fake.url,
               "WHATSAPP_TOKEN": "bench-token", "WHATSAPP_APP_SECRET": SECRET,
               "LOG_LEVEL": "WARNING"}
    apps = [("bare Flask route", "bench.bare:app", {}, reactions),
            ("pywa 4.5 (stores nothing)", "bench.pywa_app:app", {}, reactions),
            ("floor: verify, load, insert", "bench.floor_app:app",
             {"FLOOR_DB": f"{tmp}/floor.sqlite3"}, reactions),
            ("gateway, ack path", "wsgi:app",
             {**offline, "GATEWAY_DB_PATH": f"{tmp}/ack.sqlite3"}, reactions),
            ("gateway, answering all", "wsgi:app",
             {**offline, "GATEWAY_DB_PATH": f"{tmp}/all.sqlite3"}, texts)]
    try:
        import pywa  # noqa: F401
    except ImportError:
        print("\n(pywa is not installed: `make bench` installs bench/requirements.txt)")
        apps = [app for app in apps if "pywa" not in app[1]]
    print(f"\n1. side by side: wrk, 2 threads, {args.connections} connections, {args.seconds:g} s "
          f"a run, {args.repeat} runs each, interleaved; medians (offline bot)")
    fake.llm_delay = 0
    servers = {}
    results: dict[str, list[dict]] = {name: [] for name, *_ in apps}
    try:
        for name, app, env, _ in apps:
            servers[name] = Gunicorn(env, app=app).start(timeout=120)
        for repeat in range(args.repeat + 1):  # the first round warms every app up
            for name, _, _, bodies in apps:
                before, started = len(fake.sent), time.monotonic()
                result = run_wrk(servers[name].url + PATH, bodies, repeat * per_run,
                                 args.connections, args.seconds if repeat else 2)
                if name == "gateway, answering all":
                    result["answered"], result["answered_rps"] = drained(
                        fake, before, result["requests"] - result["errors"], started)
                if repeat:
                    results[name].append(result)
        memory = {name: [row["uss"] for row in server.worker_memory()]
                  for name, server in servers.items()}
        # The runs above ask one question, so every answer after the first comes from the
        # question cache: the encoders run once. Real people ask new ones.
        before, started = len(fake.sent), time.monotonic()
        distinct = run_wrk(servers["gateway, answering all"].url + PATH,
                           distinct_file(f"{tmp}/distinct.txt", 20000), 0, args.connections, 4)
        answered, rate = drained(fake, before, distinct["requests"] - distinct["errors"],
                                 started)
    finally:
        for server in servers.values():
            server.stop()
    bare = median(results["bare Flask route"], "rps")
    for name, runs in results.items():
        rps, p99 = median(runs, "rps"), median(runs, "p99_ms")
        extra = ""
        if "answered_rps" in runs[0]:
            each = ", ".join(f"{r['answered_rps']:.0f}" for r in runs)
            extra = f"; answered {median(runs, 'answered_rps'):.0f} messages/s ({each})"
        print(f"  {name:<27} {rps:8.0f} req/s ({rps / bare:.2f})   p50 "
              f"{median(runs, 'p50_ms'):6.1f} ms   p99 {p99:6.1f} ms   errors "
              f"{sum(r['errors'] for r in runs)}   wrk CPU {median(runs, 'cpu_share'):.0%}{extra}")
    print(f"  gateway, answering new questions (wrk 4 s, {distinct['rps']:.0f} req/s): "
          f"{answered} answered, {rate:.0f} messages/s")
    if "pywa 4.5 (stores nothing)" in results:
        pywa_runs = results["pywa 4.5 (stores nothing)"]
        for name in ("gateway, ack path", "floor: verify, load, insert"):
            runs = results[name]
            print(f"  {name} / pywa: {median(runs, 'rps') / median(pywa_runs, 'rps'):.2f} of the "
                  f"requests/s, p99 {median(runs, 'p99_ms') / median(pywa_runs, 'p99_ms'):.2f}x")
    print("  worker USS (MB): " + "; ".join(
        f"{name}: {', '.join(f'{m:.0f}' for m in sizes)}" for name, sizes in memory.items()))


def median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def gateway_env(fake: FakeProvider, db_dir: str) -> dict:
    return {"GATEWAY_DB_PATH": os.path.join(db_dir, "gateway.sqlite3"),
            "WHATSAPP_APP_SECRET": SECRET, "WHATSAPP_API_BASE_URL": fake.url,
            "WHATSAPP_TOKEN": "bench-token", "LLM_PROVIDER": "openai",
            "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": f"{fake.url}/v1",
            "LOG_LEVEL": "WARNING"}


def measure(app: str, env: dict, run) -> dict:
    server = Gunicorn(env, app=app).start()
    try:
        run(server.url + PATH)  # warm up: connections, imports, SQLite pages
        return run(server.url + PATH)
    finally:
        server.stop()


def line(label: str, result: dict) -> str:
    failed = f"  failed {result['failed']}" if result["failed"] else ""
    return (f"  {label:<28} {result['rps']:8.1f} req/s   p50 {result['p50_ms']:7.2f} ms   "
            f"p99 {result['p99_ms']:7.2f} ms   ({result['ok']} ok){failed}")


def main() -> None:
    """Run both comparisons and print the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rate", type=float, default=40)
    parser.add_argument("--burst", type=int, default=2000, help="people in the burst (0: skip)")
    parser.add_argument("--only", type=int, choices=(1, 2, 3, 4), help="run one part")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each app in part 1")
    args = parser.parse_args()
    server = load_server_settings()
    print(f"machine: {os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python "
          f"{platform.python_version()}, gunicorn {version('gunicorn')} ({server.workers} "
          f"workers x {server.threads} threads, gthread), SQLite store, client on the same host")
    closed = lambda url: closed_loop(url, args.connections, args.seconds)  # noqa: E731
    steady = lambda url: fixed_rate(url, args.rate, args.seconds)  # noqa: E731
    with FakeProvider() as fake, tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, 1):
            interleaved(args, fake, tmp)
        if args.only == 4:  # the Python client of earlier measurements
            throughput(args, fake, tmp, closed)
        if args.only in (None, 2):
            slow_bot(args, fake, tmp, steady)
        if args.burst and args.only in (None, 3):
            drain(args, fake, tmp, server.workers)


def throughput(args, fake: FakeProvider, tmp: str, closed) -> None:
    """Part 1: the gateway against a bare route, closed loop."""
    print(f"\n1. throughput: closed loop, {args.connections} connections, {args.seconds:g} s")
    bare = measure("bench.bare:app", {}, closed)
    print(line("bare Flask route", bare))
    fake.llm_delay = 0
    gateway = measure("wsgi:app", gateway_env(fake, tmp + "/a"), closed)
    print(line("gateway, signed Cloud API", gateway))
    print(f"  ratio gateway/bare: {gateway['rps'] / bare['rps']:.2f} of the requests/s, "
          f"p99 {gateway['p99_ms'] / bare['p99_ms']:.2f}x")


def slow_bot(args, fake: FakeProvider, tmp: str, steady) -> None:
    """Part 2: the webhook's latency does not depend on the bot's."""
    print(f"\n2. latency with a slow bot: {args.rate:g} req/s for {args.seconds:g} s")
    fake.llm_delay = 0
    instant = measure("wsgi:app", gateway_env(fake, tmp + "/b"), steady)
    print(line("instant bot", instant))
    fake.llm_delay = 5
    slow = measure("wsgi:app", gateway_env(fake, tmp + "/c"), steady)
    print(line("5 s bot", slow))
    print(f"  ratio p99 5 s bot / instant bot: {slow['p99_ms'] / instant['p99_ms']:.2f}x "
          f"(p50 {slow['p50_ms'] / instant['p50_ms']:.2f}x)")


def drain(args, fake: FakeProvider, tmp: str, workers: int) -> None:
    """Part 3: a burst, drained by the answering threads."""
    pool = workers * gateway_settings().background_threads
    print(f"\n3. burst: {args.burst} people within 20 s, bot taking 0.5 s, {pool} answering "
          "threads in all")
    fake.llm_delay = 0.5
    gunicorn = Gunicorn(gateway_env(fake, tmp + "/d")).start()
    try:
        result = burst(gunicorn.url + PATH, fake, args.burst, 20, 0.5, pool)
    finally:
        gunicorn.stop()
    print(f"  answered {result['answered']}/{args.burst}, doubled {result['doubled']}, "
          f"posts refused {result['failed'] or 0}")
    ratio = result["drain_s"] / result["allowed_s"]
    print(f"  drained in {result['drain_s']:.1f} s; the threads allow "
          f"{result['allowed_s']:.1f} s: ratio {ratio:.2f}x")
    print(f"  wait for an answer: median {result['median_wait_s']:.1f} s, worst "
          f"{result['worst_wait_s']:.1f} s")


if __name__ == "__main__":
    main()
