"""Start the gateway under its production gunicorn config, as a real process (tests, bench)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def provider_env(fake_url: str, db_path: str, **extra: str) -> dict[str, str]:
    """Settings of a gateway that sends every dialect to the fake provider at `fake_url`
    (Vonage's private key written beside the database)."""
    from tests.cases import private_key_pem

    key = Path(db_path).with_name("vonage.key")
    key.write_text(private_key_pem())
    return {"GATEWAY_DB_PATH": db_path, "WHATSAPP_API_BASE_URL": fake_url,
            "WHATSAPP_TOKEN": "provider-token", "WHATSAPP_APP_SECRET": "app-secret-1",
            "WHATSAPP_PHONE_NUMBER_ID": "15550001111", "WHATSAPP_PRIVATE_KEY_PATH": str(key),
            "WHATSAPP_ACCOUNT_ID": "AC0123456789abcdef0123456789abcdef", **extra}


class Gunicorn:
    """`gunicorn --config gunicorn.conf.py APP` on a free port with the given environment."""

    def __init__(self, env: dict[str, str], app: str = "wsgi:app"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", prefix="gunicorn-", suffix=".log")
        ours = ("WHATSAPP_", "MONGODB_", "LLM_", "OPENAI_", "GATEWAY_", "JWT_", "BACKGROUND_")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
        self.env.update(PORT=str(self.port), **env)
        self.app = app
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> Gunicorn:
        """Start, and return once `/healthz` answers."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", self.app],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_serving(timeout)
        return self

    def wait_serving(self, timeout: float = 30) -> None:
        """Poll `/healthz` until it answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.output()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or no worker booted yet
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not serve in time:\n{self.output()}")

    def worker_pids(self) -> list[int]:
        """The master's children, read from /proc."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.append(int(entry.name))
        return pids

    def deliver(self, case, payload: dict, new_connection: bool = False) -> None:
        """POST `payload` to the webhook signed as `case`'s provider signs it; it must be
        acknowledged. `new_connection`: not kept alive, so posts spread over the workers."""
        url = f"{self.url}/api/v1/whatsapp/webhook"
        body = case.encode(payload)
        headers = {**case.headers(body, url), **({"Connection": "close"} if new_connection
                                                 else {})}
        response = requests.post(url, data=body, headers=headers, timeout=10)
        assert response.status_code == 200, response.text

    def worker_memory(self) -> list[dict]:
        """Each worker's RSS, PSS and USS (its private pages), in MB, from smaps_rollup."""
        return [row for row in self.memory() if row["role"] == "worker"]

    def memory(self) -> list[dict]:
        """The master's and each worker's RSS, PSS and USS, in MB, from smaps_rollup."""
        rows = []
        for role, pid in [("master", self.process.pid),
                          *(("worker", pid) for pid in self.worker_pids())]:
            fields = {}
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
                name, value = line.split(":", 1)
                fields[name] = int(value.split()[0]) / 1024
            rows.append({"role": role, "pid": pid, "rss": fields["Rss"], "pss": fields["Pss"],
                         "uss": fields["Private_Clean"] + fields["Private_Dirty"]})
        return rows

    def output(self) -> str:
        """Everything gunicorn and the app logged so far."""
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40) -> str:
        """Signal the master, wait for it to exit, return the log (once)."""
        if self.log.closed:
            return ""
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        output = self.output()
        self.log.close()
        return output
