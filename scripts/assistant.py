"""Start and stop the assistant's processes: the action server, the Rasa server and the web page.

One implementation serves ``make run``, the end-to-end tests and the benchmarks, so that what is tested
is what runs. Each process's output goes to a log file; readiness is checked over HTTP.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from bot.web.serve import web_command

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "models" / "current.tar.gz"


@dataclass
class Assistant:
    """The action server and the Rasa server on the embedded defaults, as a context manager."""

    rasa_port: int = 5005
    action_port: int = 5055
    model: Path = DEFAULT_MODEL
    env: Dict[str, str] = field(default_factory=dict)
    log_dir: Optional[Path] = None
    enable_api: bool = False
    web_port: Optional[int] = None  # the web chat page's server; None: no page
    startup_timeout: float = 180.0
    # The HTTP API (enable_api) is never open without a token: RASA_AUTH_TOKEN, or a new random one.
    auth_token: str = field(default_factory=lambda: os.environ.get("RASA_AUTH_TOKEN") or secrets.token_urlsafe(24))
    cors_origins: Optional[List[str]] = None  # None: see _cors_origins
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict, init=False)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}"

    def __enter__(self) -> "Assistant":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _environment(self) -> Dict[str, str]:
        return {**base_environment(), **self.env}

    def _endpoints_file(self) -> Path:
        """endpoints.yml with the action server's address for this instance's port, and the shared
        secret the action server then requires when ACTION_SERVER_SECRET is in the processes' env."""
        endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
        endpoints["action_endpoint"]["url"] = f"{self.action_url}/webhook"
        secret = self._environment().get("ACTION_SERVER_SECRET")
        if secret:
            endpoints["action_endpoint"].setdefault("headers", {})["X-Action-Server-Secret"] = secret
        self.log_dir = self.log_dir or Path(tempfile.mkdtemp(prefix="assistant-logs-"))
        path = self.log_dir / "endpoints.yml"
        path.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
        return path

    def _spawn(self, name: str, command: List[str], **env: str) -> None:
        self.log_dir = self.log_dir or Path(tempfile.mkdtemp(prefix="assistant-logs-"))
        self.processes[name] = spawn(name, command, {**self._environment(), **env}, self.log_dir)

    def _cors_origins(self) -> List[str]:
        """Who may call the Rasa server from a browser: ``cors_origins``, else CORS_ORIGINS, else the
        web page's own origins on every address of this machine (a phone in the same network opens
        the page by the machine's address); nobody without a page."""
        if self.cors_origins is not None:
            return self.cors_origins
        configured = [o.strip() for o in os.environ.get("CORS_ORIGINS", "").split(",") if o.strip()]
        if configured or not self.web_port:
            return configured
        return page_origins(self.web_port)

    def start(self) -> None:
        try:
            self._start()
        except BaseException:  # a failed or interrupted start leaves no process behind
            self.stop()
            raise

    def _start(self) -> None:
        if not self.model.exists():
            raise FileNotFoundError(f"No model at {self.model}; run `make train` first")
        self._spawn("actions", action_server_command(self.action_port))
        origins = self._cors_origins()
        self._spawn("rasa", rasa_command(
            self.model, self.rasa_port, self._endpoints_file(),
            cors_origins=origins,
            auth_token=self.auth_token if self.enable_api else None,
        ), CORS_ORIGINS=",".join(origins))  # the socket.io channel checks the same origins
        if self.web_port:
            self._spawn("web", web_command(port=self.web_port, rasa_port=self.rasa_port))
        self.wait_until_ready()

    def wait_until_ready(self) -> None:
        urls = {"actions": f"{self.action_url}/health", "rasa": f"{self.rasa_url}/webhooks/rest/"}
        if self.web_port:
            urls["web"] = f"http://127.0.0.1:{self.web_port}/healthz"
        try:
            wait_until_answering(urls, self.processes, self.startup_timeout, self.log_dir)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        stop_processes(self.processes)


def base_environment() -> Dict[str, str]:
    """This process's environment, with what every process of the assistant needs."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


def page_origins(port: int) -> List[str]:
    """``http://<address>:<port>`` for localhost and every IPv4 address of this machine."""
    import socket

    import psutil

    hosts = {"localhost", "127.0.0.1"} | {
        address.address for nic in psutil.net_if_addrs().values() for address in nic
        if address.family == socket.AF_INET
    }
    return sorted(f"http://{host}:{port}" for host in hosts)


def action_server_command(port: int) -> List[str]:
    """The action server (actions/server.py: rasa_sdk's app, answering Rasa only)."""
    return [sys.executable, "-m", "actions.server", "--port", str(port)]


def rasa_command(model: Path, port: int, endpoints: Path, cors_origins: List[str],
                 auth_token: Optional[str] = None, jwt_secret: Optional[str] = None) -> List[str]:
    """``rasa run``; its HTTP API only with a token or a JWT secret."""
    command = [
        sys.executable, "-m", "rasa", "run",
        "--model", str(model),
        "--port", str(port),
        "--endpoints", str(endpoints),
        "--credentials", str(ROOT / "credentials.yml"),
    ]
    if cors_origins:
        command += ["--cors", *cors_origins]
    if auth_token or jwt_secret:
        command.append("--enable-api")
        # One argument "--auth-token=…": a generated token may begin with "-", which argparse would
        # take for an option of its own (and rasa would not start).
        command.append(f"--auth-token={auth_token}" if auth_token else f"--jwt-secret={jwt_secret}")
    return command


def spawn(name: str, command: List[str], env: Dict[str, str], log_dir: Path) -> subprocess.Popen:
    """One process of the assistant, its output in ``log_dir/name.log``, in its own process group."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / f"{name}.log", "ab")
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C in a terminal reaches us, and we stop the group
    )


def wait_until_answering(urls: Dict[str, str], processes: Dict[str, subprocess.Popen], timeout: float,
                         log_dir: Optional[Path]) -> None:
    """Waits until each process's URL (by process name) answers 200; a process that exits meanwhile,
    or the timeout, is an error naming it and its log."""
    deadline = time.monotonic() + timeout
    for name, url in urls.items():
        while not answers(url):
            process = processes.get(name)
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{name} exited while starting; see {log_dir}/{name}.log")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} ({url}) did not answer within {timeout:.0f} s")
            time.sleep(0.5)


def stop_processes(processes: Dict[str, subprocess.Popen]) -> None:
    """SIGTERM to each process's group; SIGKILL to a group still running 20 s later."""
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    processes.clear()


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
