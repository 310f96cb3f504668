#!/usr/bin/env python3
"""One entry point per habit, the same for a developer and for CI.

    python3 dev.py install   create .venv and install Steadyhand with its pinned dependencies
    python3 dev.py test      run the test suite (installs first when needed)
    python3 dev.py lint      ruff (lint + format check) and mypy --strict on bot/
    python3 dev.py demo      play an incident against the built-in sandbox Slack
    python3 dev.py bench     run the benchmarks in bench/ and print their numbers
    python3 dev.py serve     run the bot (steadyhand serve); extra arguments are passed on

Only Python 3.11+ is needed; everything else goes into .venv from PyPI.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"


def run(*cmd: str | Path) -> int:
    return subprocess.call([str(c) for c in cmd], cwd=ROOT)


def install(force: bool = False) -> None:
    wanted = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + (ROOT / "constraints.txt").read_bytes()
    ).hexdigest()
    if not force and STAMP.exists() and STAMP.read_text() == wanted:
        return
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        sys.exit("steadyhand needs Python 3.11 or newer")
    if not (BIN / "python").exists():
        venv.create(VENV, with_pip=True)
    pip = [BIN / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if run(*pip, "-c", "constraints.txt", "-e", ".[dev]") != 0:
        sys.exit("installing dependencies failed")
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    task, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if task == "help":
        print(__doc__)
        return 0
    install(force=task == "install")
    py = BIN / "python"
    if task == "install":
        return 0
    if task == "test":
        return run(py, "-m", "pytest", *rest)
    if task == "lint":
        return (
            run(py, "-m", "ruff", "check", "bot", "tests", "bench", "dev.py")
            or run(py, "-m", "ruff", "format", "--check", "bot", "tests", "bench", "dev.py")
            or run(py, "-m", "mypy", "bot")
        )
    if task == "demo":
        return run(BIN / "steadyhand", "demo", *rest)
    if task == "serve":
        return run(BIN / "steadyhand", "serve", *rest)
    if task == "bench":
        for script in sorted((ROOT / "bench").glob("[!_]*.py")):  # _common.py is shared code
            print(f"== {script.name}", flush=True)
            if code := run(py, script, *rest):
                return code
        return 0
    print(f"unknown task {task!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
