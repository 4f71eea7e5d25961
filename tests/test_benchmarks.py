"""The benchmarks run: a broken asv benchmark or comparison fails CI (nothing is timed here)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_asv_suite_is_well_formed():
    # asv is in the test extra: a missing asv fails here rather than skipping the check.
    result = subprocess.run(
        [sys.executable, "-m", "asv", "check", "--python=same"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No problems found" in result.stdout


# The commands run outside the checkout: from its root, ``python -m fastbp`` would import
# the source tree's fastbp/, which lacks fastbp.kernels (installed from kernels/).


def test_fastbp_bench_checks_weights_and_prints_ratios(tmp_path):
    command = [sys.executable, "-m", "fastbp", "bench", "--workloads", "W1", "--peers"]
    command += ["reference", "--repeats", "1", "--quick"]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=600, env=dict(os.environ), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines() if line.startswith("W1 f64")]
    assert [line[2] for line in lines] == ["fastbp", "reference"]
    assert float(lines[0][3]) > 0 and lines[1][4].endswith("x")


def test_fastbp_bench_rejects_an_unknown_workload(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "fastbp", "bench", "--workloads", "W9"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "--workloads takes W1, W2, W3, W4; got 'W9'" in result.stderr
