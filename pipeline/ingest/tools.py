"""The outside programs some formats need (LibreOffice, Tesseract): where they are, and running them safely.

Each is looked up on PATH; ICC_SOFFICE / ICC_TESSERACT name another binary, and an empty value turns the
tool off (the formats that need it then fall back or get their error code with a hint).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass

from pipeline.errors import ingest_error
from pipeline.registry import loader


def _find(env: str, *names: str) -> str | None:
    if env in os.environ:
        value = os.environ[env].strip()
        return (shutil.which(value) or None) if value else None
    return next((found for name in names if (found := shutil.which(name))), None)


@dataclass(frozen=True)
class Tools:
    """Paths of the outside programs; None where a program is missing or turned off."""

    soffice: str | None = None
    tesseract: str | None = None

    @classmethod
    def find(cls) -> "Tools":
        return cls(soffice=_find("ICC_SOFFICE", "soffice", "libreoffice"), tesseract=_find("ICC_TESSERACT", "tesseract"))


@loader("network_jail")
def network_jail() -> tuple[str, ...]:
    """A command prefix that runs a program without network access (a new, empty network namespace),
    or () where the kernel or container does not allow it."""
    unshare = shutil.which("unshare")
    if not unshare:
        return ()
    prefix = (unshare, "--net", "--map-root-user")
    try:
        ok = subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return prefix if ok else ()


def run_bounded(cmd: list[str], *, timeout: float, what: str, env: dict[str, str] | None = None,
                stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run a program in its own process group, killing the whole group when the time limit passes
    (LibreOffice starts a child process that would outlive a plain kill). `what`: what the program does, for the
    message (a fragment of resources/errors.yaml, so that it reads in French too)."""
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=env, start_new_session=True,
    )
    try:
        out, err = proc.communicate(stdin, timeout=max(timeout, 0.1))
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise ingest_error("time_limit", what=what, seconds=timeout) from None
    except BaseException:
        _kill_group(proc)
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.communicate()


def tool_version(cmd: list[str]) -> str | None:
    """First line a program prints for --version (Tesseract prints it on stderr in older releases)."""
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=30, text=True, errors="replace")
    except (OSError, subprocess.SubprocessError):
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].strip() if lines else None
