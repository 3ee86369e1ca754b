"""The production setup on one machine: Rasa and action server replicas behind HAProxy, on PostgreSQL
and Redis, as deploy/ describes it. The scale-out tests and the load benchmark use it.

Every replica is started as in production: ``rasa run --endpoints deploy/endpoints.yml`` and
``python -m actions.server``, configured by the environment only; HAProxy runs deploy/haproxy.cfg.
A fresh PostgreSQL database holds the conversations and the bookings, and a Redis database of its own
the locks and counters; both are chosen per run (unless named), so two runs on one server never share
or flush each other's data, and both are removed on ``stop()``.
"""

from __future__ import annotations

import os
import secrets
import uuid
import shutil
import signal
import sys
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from sqlalchemy import create_engine, text

from scripts.assistant import (
    DEFAULT_MODEL, ROOT, action_server_command, base_environment, rasa_command, spawn, stop_processes,
    wait_until_answering,
)

POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"
REDIS_SERVER = "redis://127.0.0.1:6379"
REDIS_DATABASES = range(1, 16)  # a stock Redis server has 16; database 0 is left to others
REDIS_CLAIM_KEY = "xinfang:cluster-claim"


@dataclass
class Cluster:
    """Two Rasa replicas and two action servers behind HAProxy (ports from ``base_port``)."""

    base_port: int = 25000
    model: Path = DEFAULT_MODEL
    database: str = field(default_factory=lambda: f"xinfang_cluster_{uuid.uuid4().hex[:10]}")
    redis_db: Optional[int] = None  # None: an empty database of the server, claimed for this run
    env: Dict[str, str] = field(default_factory=dict)  # extra settings for every replica (BOT_NOW)
    log_dir: Optional[Path] = None
    replicas: int = 2
    startup_timeout: float = 300.0
    auth_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    action_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    encryption_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict, init=False)

    # --- addresses ------------------------------------------------------------------------------

    def rasa_port(self, replica: int) -> int:
        return self.base_port + 5 + replica

    def action_port(self, replica: int) -> int:
        return self.base_port + 55 + replica

    @property
    def url(self) -> str:
        """The load balancer, as citizens' channels reach the assistant."""
        return f"http://127.0.0.1:{self.base_port + 80}"

    @property
    def actions_lb_port(self) -> int:
        return self.base_port + 81

    def rasa_url(self, replica: int) -> str:
        return f"http://127.0.0.1:{self.rasa_port(replica)}"

    def action_url(self, replica: int) -> str:
        return f"http://127.0.0.1:{self.action_port(replica)}"

    @property
    def database_url(self) -> str:
        return f"{POSTGRES_SERVER}/{self.database}"

    @property
    def redis_url(self) -> str:
        return f"{REDIS_SERVER}/{self.redis_db}"

    # --- life cycle -----------------------------------------------------------------------------

    def __enter__(self) -> "Cluster":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        try:
            self._start()
        except BaseException:  # a failed or interrupted start leaves no process or database behind
            self.stop()
            raise

    def _start(self) -> None:
        if not self.model.exists():
            raise FileNotFoundError(f"No model at {self.model}; run `make train` first")
        if shutil.which("haproxy") is None:
            raise RuntimeError("haproxy is not installed (make system-deps installs it)")
        self.log_dir = self.log_dir or Path(tempfile.mkdtemp(prefix="cluster-logs-"))
        self._reset_database()
        self._reset_redis()
        subprocess.run(  # once, before the replicas: a deployment's migration job
            [sys.executable, "-m", "actions.admin", "migrate"],
            cwd=ROOT, env=self._environment(), check=True, capture_output=True,
        )
        for replica in range(self.replicas):
            self.start_process(f"actions-{replica + 1}")
        for replica in range(self.replicas):
            self.start_process(f"rasa-{replica + 1}")
        self.start_process("haproxy")
        self.wait_until_ready()

    def start_process(self, name: str) -> None:
        """Starts (or restarts) ``actions-N``, ``rasa-N`` or ``haproxy``."""
        kind, _, number = name.partition("-")
        if kind == "actions":
            command = action_server_command(self.action_port(int(number) - 1))
        elif kind == "rasa":
            command = rasa_command(self.model, self.rasa_port(int(number) - 1), ROOT / "deploy" / "endpoints.yml",
                                   cors_origins=[], auth_token=self.auth_token)
        else:
            command = ["haproxy", "-db", "-f", str(ROOT / "deploy" / "haproxy.cfg")]
        self.processes[name] = spawn(name, command, self._environment(), self.log_dir)

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash or an OOM kill: no chance to finish anything."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def wait_until_ready(self, names: Optional[List[str]] = None) -> None:
        urls = {name: url for name, url in self.health_urls().items() if names is None or name in names}
        wait_until_answering(urls, self.processes, self.startup_timeout, self.log_dir)

    def health_urls(self) -> Dict[str, str]:
        urls = {}
        for replica in range(self.replicas):
            urls[f"actions-{replica + 1}"] = f"{self.action_url(replica)}/health"
            urls[f"rasa-{replica + 1}"] = f"{self.rasa_url(replica)}/webhooks/rest/"
        urls["haproxy"] = f"{self.url}/webhooks/rest/"
        return urls

    def stop(self) -> None:
        stop_processes(self.processes)
        self._drop_database()
        self._release_redis()

    # --- environment ----------------------------------------------------------------------------

    def _environment(self) -> Dict[str, str]:
        env = base_environment()
        env.update(
            # deploy/endpoints.yml and the action servers
            ACTION_SERVER_URL=f"http://127.0.0.1:{self.actions_lb_port}/webhook",
            ACTION_SERVER_SECRET=self.action_secret,
            TRACKER_STORE_URL=self.database_url,
            TRACKER_ENCRYPTION_KEY=self.encryption_key,
            REDIS_URL=self.redis_url,
            DATABASE_URL=self.database_url,
            SANIC_HOST="127.0.0.1",
            # deploy/haproxy.cfg
            LB_RASA_BIND=f"127.0.0.1:{self.base_port + 80}",
            LB_ACTIONS_BIND=f"127.0.0.1:{self.actions_lb_port}",
        )
        for replica in range(2):  # haproxy.cfg names two of each
            env[f"RASA_{replica + 1}"] = f"127.0.0.1:{self.rasa_port(replica % self.replicas)}"
            env[f"ACTIONS_{replica + 1}"] = f"127.0.0.1:{self.action_port(replica % self.replicas)}"
        env.update(self.env)
        return env

    def _reset_database(self) -> None:
        self._drop_database()
        with _server_engine().connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.database}"'))

    def _drop_database(self) -> None:
        with _server_engine().connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))

    def _reset_redis(self) -> None:
        import redis

        if self.redis_db is not None:
            redis.Redis.from_url(self.redis_url).flushdb()
            return
        token = uuid.uuid4().hex
        for number in REDIS_DATABASES:
            client = redis.Redis.from_url(f"{REDIS_SERVER}/{number}")
            # Empty, and ours by an atomic claim: another run that saw it empty too loses the SET NX.
            if client.dbsize() == 0 and client.set(REDIS_CLAIM_KEY, token, nx=True, ex=24 * 3600):
                if client.dbsize() == 1:
                    self.redis_db = number
                    return
                client.delete(REDIS_CLAIM_KEY)  # someone else wrote here meanwhile
        raise RuntimeError(f"no empty Redis database left on {REDIS_SERVER} (1-15 are all in use)")

    def _release_redis(self) -> None:
        import redis

        if self.redis_db is not None:
            redis.Redis.from_url(self.redis_url).flushdb()  # ours alone: claimed or named for this run


def _server_engine():
    return create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT", future=True)
