"""The benchmark harness's pieces (its statistics, wrk's report, the profile summary, the budget lines).
The harness itself is run by hand (bench/run); nothing here is timed."""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import pytest

from bench.budgets import Check, at_least, at_most
from bench.harness import answered_per_worker
from bench.load import HttpRequest, parse_result
from bench.profile import top_frames, top_own_code
from bench.rows import Row
from bench.stats import Latencies, count_over, percentile


class TestPercentile:
    def test_nearest_rank_over_counts(self) -> None:
        histogram = [(0.003, 50), (0.001, 40), (0.010, 9), (0.500, 1)]

        assert percentile(histogram, 0.40) == 0.001
        assert percentile(histogram, 0.41) == 0.003
        assert percentile(histogram, 0.90) == 0.003
        assert percentile(histogram, 0.99) == 0.010
        assert percentile(histogram, 1.0) == 0.500

    def test_single_value_is_every_percentile(self) -> None:
        assert percentile([(0.02, 1)], 0.5) == percentile([(0.02, 1)], 0.99) == 0.02

    def test_empty_histogram_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="no latencies"):
            percentile([(0.1, 0)], 0.5)

    @pytest.mark.parametrize("fraction", [0.0, 1.5, -0.1])
    def test_fraction_out_of_range_is_an_error(self, fraction: float) -> None:
        with pytest.raises(ValueError, match="fraction"):
            percentile([(0.1, 1)], fraction)

    def test_latencies_summary(self) -> None:
        histogram = [(float(value) / 1000, 1) for value in range(1, 101)]

        assert Latencies.of(histogram) == Latencies(p50=0.050, p95=0.095, p99=0.099, worst=0.100)

    def test_count_over_a_deadline(self) -> None:
        assert count_over([(1.0, 3), (2.0, 2), (2.5, 4)], 2.0) == 4


def test_wrk_report_is_read() -> None:
    report = "requests 120\nduration_us 2000000\nerrors 1 2 3 4 5\nlatency 1500 100\nlatency 2500 20\n"

    result = parse_result(report)

    assert result.completed == 120
    assert result.throughput == 60.0
    assert result.histogram == [(0.0015, 100), (0.0025, 20)]
    assert (result.status_errors, result.dropped) == (4, 1 + 2 + 3 + 5)


def test_raw_request_carries_its_length_and_host() -> None:
    raw = HttpRequest("POST", "/x", b'{"a": 1}', (("Authorization", "Bearer t"),)).raw(8000)

    head, _, body = raw.partition(b"\r\n\r\n")
    assert body == b'{"a": 1}'
    assert b"Content-Length: 8" in head
    assert b"Host: 127.0.0.1:8000" in head
    assert head.startswith(b"POST /x HTTP/1.1\r\n")


def test_profile_summary_counts_functions_not_lines() -> None:
    collapsed = (
        'process 1:"stratcare serve";run (uvicorn/main.py:10);record (stratcare/store/calls.py:40) 6\n'
        'process 1:"stratcare serve";run (uvicorn/main.py:10);record (stratcare/store/calls.py:52) 2\n'
        'process 1:"stratcare serve";run (uvicorn/main.py:10);verify (joserfc/jws.py:9) 2\n'
    )

    assert top_frames(collapsed) == [
        " 80.0%  record (stratcare/store/calls.py)",
        " 20.0%  verify (joserfc/jws.py)",
    ]
    assert top_own_code(collapsed) == [" 80.0%  record (stratcare/store/calls.py)"]


def test_budget_lines() -> None:
    assert at_least("throughput", 0.6, 0.5).line().startswith("PASS")
    assert at_most("p99", 60.0, 50.0, " ms").line().startswith("FAIL")
    assert at_least("ratio", None, 0.5, why="peer missing").line() == "UNAVAILABLE ratio: peer missing"
    assert Check("b", holds=False, measured="m").line() == "FAIL        b: m"


@pytest.mark.parametrize(
    "module",
    ["bench.harness", "bench.services", "bench.seeding", "bench.hung_fhir", "bench.peers.ceiling_app"],
)
def test_harness_modules_import(module: str) -> None:
    importlib.import_module(module)


def test_a_cell_with_no_answers_has_no_percentiles() -> None:
    nothing = parse_result("requests 0\nduration_us 10000000\nerrors 0 0 0 0 8\n")

    row = Row("c. FHIR server never answers", 8, nothing, cpu_per_call=0.0)

    assert math.isnan(row.latencies.p99)
    assert row.result.dropped == 8


def test_calls_per_worker_are_read_from_the_log(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    earlier = json.dumps({"message": "hook answered", "pid": 1}) + "\n"
    log.write_text(earlier)
    start = log.stat().st_size
    lines = [{"message": "hook answered", "pid": pid} for pid in (7, 8, 7, 7)]
    lines.append({"message": "request refused", "pid": 8})
    with log.open("a") as out:
        out.write("\n".join(json.dumps(line) for line in lines) + "\nnot json\n")

    assert answered_per_worker(log, start) == (3, 1)
