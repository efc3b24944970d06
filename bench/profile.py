"""A py-spy profile of a server under load: the ten frames holding most samples (as the leaf)."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.load import HttpRequest, drive
from bench.processes import RunningServer

PROFILE_CONCURRENCY = 8


def profile_top_frames(
    server: RunningServer, make: Callable[[int], list[HttpRequest]], seconds: int, logs: Path
) -> list[str]:
    spy = shutil.which("py-spy") or str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "py-spy")
    if not Path(spy).exists():
        return ["py-spy is not installed (.venv/bin/pip install py-spy)"]
    raw = logs / "profile.txt"
    command = [spy, "record", "--pid", str(server.process.pid), "--duration", str(seconds)]
    command += ["--format", "raw", "--output", str(raw), "--nonblocking", "--subprocesses"]
    requests = make(int(seconds * 400) + PROFILE_CONCURRENCY)
    load = threading.Thread(
        target=drive,
        args=(server.port, requests, len(requests) - PROFILE_CONCURRENCY, PROFILE_CONCURRENCY, seconds + 2),
        daemon=True,
    )
    load.start()
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds + 60)
    load.join(timeout=seconds + 30)
    if result.returncode != 0 or not raw.exists():
        return [f"py-spy failed: {(result.stderr.strip().splitlines() or ['no output'])[-1]}"]
    return top_frames(raw.read_text(encoding="utf-8"))


def top_frames(collapsed: str, count: int = 10) -> list[str]:
    """From py-spy's collapsed stacks (``frame;frame;leaf N``): the leaves with most samples, as shares."""
    leaves: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, samples = line.rpartition(" ")
        if stack and samples.isdigit():
            leaves[stack.split(";")[-1]] += int(samples)
    total = sum(leaves.values()) or 1
    return [f"{samples / total:6.1%}  {frame}" for frame, samples in leaves.most_common(count)]
