"""Interleaved timing of prepared contenders, and the results' records and table rows."""

import json
import statistics
import subprocess
import sys
import tempfile
import time

# A pause before each timed run: the thread pools of the contender before (OpenBLAS,
# OpenMP, PyTorch) spin for a while after their last call, and at 2 threads a spinning
# pool takes a core from the contender timed next. OpenBLAS's threads spin longest,
# about 0.1 s at this clock before they sleep.
PAUSE_SECONDS = 0.15


def time_interleaved(runs, repeats, pause=PAUSE_SECONDS):
    """Median seconds of each ``run`` in ``runs`` (a dict of name to ``(run, units)``), per
    unit: each repeat times every contender once, in turn, so a change in the machine's load
    hits them all alike."""
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, (run, units) in runs.items():
            time.sleep(pause)
            started = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - started) / units)
    return {name: statistics.median(seconds) for name, seconds in times.items()}


def record(results_file, **fields):
    """Append one result (a JSON line) to the file the parent process reads."""
    if results_file is None:
        return
    with open(results_file, "a") as file:
        file.write(json.dumps(fields) + "\n")


def read_records(path):
    with open(path) as file:
        return [json.loads(line) for line in file if line.strip()]


def print_table(label, medians, scale, digits, counts):
    """One row per contender: the median in the display unit (``scale`` times seconds, with
    ``digits`` decimals), the multiple of fastbp's, and what was timed (``counts``)."""
    fastbp = medians["fastbp"]
    for contender, value in medians.items():
        ratio = "" if contender == "fastbp" else f"{value / fastbp:9.2f}x"
        shown = f"{value * scale:12.{digits}f}"
        print(f"{label:<10} {contender:<10} {shown} {ratio:>10}  {counts[contender]}")


def child_result(code, environment, failure):
    """Run ``code`` in a fresh interpreter with ``environment`` and return the JSON of its
    ``RESULT`` line; raise a RuntimeError starting with ``failure`` and its stderr if it
    fails."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),  # not a checkout's root, whose fastbp/ lacks fastbp.kernels
    )
    if result.returncode != 0:
        raise RuntimeError(f"{failure}:\n{result.stderr}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))
