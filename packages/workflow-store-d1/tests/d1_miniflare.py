"""Real D1 semantics for tests: workerd started through miniflare, speaking the D1 REST API.

``miniflare/`` holds a pinned ``package.json`` + ``package-lock.json``; the first use
runs ``npm ci`` there (``node_modules`` is git-ignored and reused afterwards). A small
module worker (``miniflare/worker.mjs``) exposes a D1 binding in the REST API's shape, so
``D1HttpDatabase`` talks to workerd's real D1 implementation on 127.0.0.1.

Used by this package's tests and by ``tests-contract/test_d1_miniflare.py`` (which loads
this file by path).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

try:
    import fcntl
except ImportError:  # Windows: concurrent first installs are not serialised
    fcntl = None  # type: ignore[assignment]

from tanstack_workflow.store_d1 import D1HttpDatabase

HARNESS_DIR = Path(__file__).resolve().parent / "miniflare"
READY_MARKER = "MINIFLARE_READY "
START_TIMEOUT_S = 90.0
INSTALL_TIMEOUT_S = 600.0


class MiniflareUnavailable(RuntimeError):
    """Node.js is not installed, so workerd cannot run here."""


@dataclass(frozen=True)
class MiniflareD1:
    """A running harness: where it listens and the credentials it expects."""

    url: str
    api_token: str
    account_id: str = "test-account"
    database_id: str = "00000000-0000-4000-8000-000000000000"

    def database(self, client: httpx.AsyncClient | None = None) -> D1HttpDatabase:
        """A ``D1HttpDatabase`` pointed at this harness."""
        return D1HttpDatabase(
            account_id=self.account_id,
            database_id=self.database_id,
            api_token=self.api_token,
            client=client,
            base_url=self.url,
        )


def node_executable() -> str:
    """The ``node`` binary, or ``MiniflareUnavailable`` with the reason to skip."""
    node = shutil.which("node")
    if node is None:
        raise MiniflareUnavailable(
            "Node.js (`node`) is not on PATH: the real-D1 tests run workerd through miniflare "
            "and need Node.js >= 18"
        )
    return node


def ensure_installed() -> None:
    """``npm ci`` the pinned miniflare into ``miniflare/node_modules`` unless already there."""
    lock = HARNESS_DIR / "package-lock.json"
    stamp = HARNESS_DIR / "node_modules" / ".tanstack-workflow-lock-sha256"
    wanted = hashlib.sha256(lock.read_bytes()).hexdigest()
    with open(HARNESS_DIR / ".install.lock", "w") as guard:
        if fcntl is not None:
            fcntl.flock(guard, fcntl.LOCK_EX)  # concurrent test sessions install once
        if stamp.is_file() and stamp.read_text() == wanted:
            return
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("`node` is installed but `npm` is not: cannot install miniflare")
        command = [npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"]
        done = subprocess.run(
            command,
            cwd=HARNESS_DIR,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"`{' '.join(command)}` failed in {HARNESS_DIR} (exit {done.returncode}):\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
        stamp.write_text(wanted)


@contextlib.contextmanager
def running_miniflare() -> Iterator[MiniflareD1]:
    """Start the harness on a random 127.0.0.1 port; stop it on exit."""
    node = node_executable()
    ensure_installed()
    token = secrets.token_hex(16)
    env = {**os.environ, "D1_HARNESS_API_TOKEN": token}
    with tempfile.TemporaryFile(mode="w+") as stderr:
        process = subprocess.Popen(
            [node, "server.mjs"],
            cwd=HARNESS_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            url = _wait_until_ready(process, stderr)
            yield MiniflareD1(url=url.rstrip("/"), api_token=token)
        finally:
            _stop(process)


def _wait_until_ready(
    process: subprocess.Popen[str], stderr: tempfile._TemporaryFileWrapper[str]
) -> str:
    assert process.stdout is not None
    found: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(READY_MARKER):
                found.append(line[len(READY_MARKER) :].strip())
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(START_TIMEOUT_S)
    if found:
        return found[0]
    _stop(process)
    stderr.seek(0)
    raise RuntimeError(
        f"miniflare did not start within {START_TIMEOUT_S:.0f}s (exit code {process.poll()}):\n"
        f"{stderr.read()[-4000:]}"
    )


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is not None:
        if process.stdout is not None:
            process.stdout.close()
        return
    with contextlib.suppress(OSError):
        assert process.stdin is not None
        process.stdin.close()  # the server disposes miniflare and exits on EOF
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)
    finally:
        if process.stdout is not None:
            process.stdout.close()
