"""A py-spy profile of a server under load: the ten frames holding most samples (as the leaf)."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from bench.load import HttpRequest, drive
from bench.processes import RunningServer

PROFILE_CONCURRENCY = 8
LINE_NUMBER = re.compile(r":\d+\)$")
"""Frames are counted per function, not per line."""


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
    collapsed = raw.read_text(encoding="utf-8")
    return [
        "own time (innermost frame):",
        *top_frames(collapsed),
        "inclusive, stratcare's frames:",
        *top_own_code(collapsed),
    ]


def _stacks(collapsed: str) -> Iterator[tuple[list[str], int]]:
    """py-spy's collapsed stacks (``process;frame;...;leaf N``), without the process frame."""
    for line in collapsed.splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack or not samples.isdigit():
            continue
        frames = stack.split(";")
        if frames[0].startswith("process "):
            frames = frames[1:]
        if frames:
            yield [LINE_NUMBER.sub(")", frame) for frame in frames], int(samples)


def top_frames(collapsed: str, count: int = 10) -> list[str]:
    """The frames with most samples as the innermost one (own time), as shares of all samples."""
    leaves: Counter[str] = Counter()
    for frames, samples in _stacks(collapsed):
        leaves[frames[-1]] += samples
    total = sum(leaves.values()) or 1
    return [f"{samples / total:6.1%}  {frame}" for frame, samples in leaves.most_common(count)]


def top_own_code(collapsed: str, count: int = 10) -> list[str]:
    """stratcare's frames with most samples anywhere on the stack (inclusive time)."""
    inclusive: Counter[str] = Counter()
    total = 0
    for frames, samples in _stacks(collapsed):
        total += samples
        for frame in set(frames):
            if "stratcare/" in frame:
                inclusive[frame] += samples
    return [f"{samples / (total or 1):6.1%}  {frame}" for frame, samples in inclusive.most_common(count)]
