"""The benchmarks run: a broken asv benchmark or comparison fails CI (nothing is timed here).

The peers are optional (the ``peers`` extra, not installed by CI): a test of a peer skips
without it, and the command runs fastbp's side of every section without them.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fastbp.benchmarking import compare, first_fit, sparse_section
from fastbp.benchmarking.plot import plot_results
from fastbp.benchmarking.user_peers import initial_parameters, prepare_fastbp, prepare_sklearn
from fastbp.benchmarking.user_workloads import U1, U5

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


def _bench(tmp_path, *arguments, timeout=600):
    result = subprocess.run(
        [sys.executable, "-m", "fastbp", "bench", *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _rows(output, label):
    return [line.split() for line in output.splitlines() if line.startswith(label + " ")]


def test_fastbp_bench_checks_weights_prints_ratios_saves_and_plots(tmp_path):
    output = _bench(
        tmp_path,
        *("--workloads", "W1", "--peers", "reference", "--repeats", "1", "--quick"),
        *("--plot", "bench.png", "--json", "bench.json"),
    )
    rows = _rows(output, "W1 f64")
    assert [row[2] for row in rows] == ["fastbp", "reference"]
    assert float(rows[0][3]) > 0 and rows[1][4].endswith("x")
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    records = json.loads((tmp_path / "bench.json").read_text())
    assert {(r["section"], r["workload"], r["contender"]) for r in records} == {
        ("kernels", "W1 f64", "fastbp"),
        ("kernels", "W1 f64", "reference"),
    }
    assert float(rows[1][3]) == pytest.approx(records[1]["value"], rel=1e-3)


def test_fastbp_bench_runs_a_user_workload_beside_the_installed_peers(tmp_path):
    output = _bench(tmp_path, "--workloads", "U1", "--peers", "sklearn,torch", "--quick")
    contenders = [row[2] for row in _rows(output, "U1 f64")]
    assert contenders[:2] == ["fastbp", "sklearn"]
    assert ("torch" in contenders) == _installed("torch")
    assert "sklearn same losses" in output  # the check from a shared start ran


def test_fastbp_bench_times_the_estimators_beside_scikit_learns_on_the_same_loss_curve(tmp_path):
    output = _bench(tmp_path, "--workloads", "E0,E1", "--repeats", "1", "--quick")
    for name in ("E0", "E1"):
        assert [row[1] for row in _rows(output, name)] == ["fastbp", "sklearn"]
        assert f"{name}: " in output and "same loss_curve_ to 1e-9 (2 and 2 epochs)" in output
        assert _rows(output, name)[1][3].endswith("x")


def test_fastbp_bench_times_a_feature_beside_plain_sgd(tmp_path):
    output = _bench(tmp_path, "--workloads", "W3-l2", "--repeats", "1")
    rows = {row[2]: row for row in _rows(output, "W3 f64")}
    assert set(rows) == {"plain", "l2"}
    assert float(rows["plain"][3]) > 0 and rows["l2"][4].endswith("x")


# "installed": a fresh cache seeded with the prebuilt kernels, where the install has them.
FIRST_FIT_CACHES = {"cold", "warm"} | ({"installed"} if first_fit.has_prebuilt_kernels() else set())


def test_fastbp_bench_times_a_first_fit_cold_installed_and_warm(tmp_path):
    output = _bench(tmp_path, "--workloads", "F4")
    rows = {row[1]: row for row in _rows(output, "F4")}
    assert set(rows) == FIRST_FIT_CACHES
    assert all(float(row[2]) > 0 and float(row[3]) > 0 for row in rows.values())


def test_a_first_fit_says_where_its_compiling_went_and_the_estimators_time_scikit_learn(
    tmp_path,
):
    output = _bench(tmp_path, "--workloads", "F10")
    rows = {row[1]: row for row in _rows(output, "F10")}
    assert set(rows) == FIRST_FIT_CACHES
    compiling = next(line for line in output.splitlines() if "compiling, cold:" in line)
    total = float(compiling.split("compiling, cold: ")[1].split(" s in ")[0])
    assert total > 0 and "longest: " in compiling
    peer = first_fit._run_child("F7", str(tmp_path), dict(os.environ), peer=True)
    assert peer["fit"] > 0 and peer["compiled"] == {}  # scikit-learn's fit compiles nothing


def test_asv_first_fit_code_runs_silently(tmp_path):
    # asv's timeraw_ reads the child's stdout: anything printed there breaks the benchmark.
    spec = importlib.util.spec_from_file_location(
        "bench_compile", ROOT / "benchmarks" / "bench_compile.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    benchmark = module.FirstFit()
    benchmark.setup("F4", "warm")  # runs the code once, filling the cache
    code = benchmark.timeraw_first_fit("F4", "warm")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_fastbp_bench_runs_jax_at_one_thread_and_checks_its_weights(tmp_path):
    pytest.importorskip("jax")
    output = _bench(tmp_path, "--workloads", "W2", "--peers", "jax", "--repeats", "1", "--quick")
    assert [row[2] for row in _rows(output, "W2 f64")] == ["fastbp", "jax"]


@pytest.mark.parametrize("name", ["W2", "W3", "W4"])
def test_both_jax_gradients_give_the_references_weights(name):
    jax = pytest.importorskip("jax")
    from fastbp.benchmarking import jax_peer
    from fastbp.benchmarking.peers import prepare_reference
    from fastbp.benchmarking.workloads import WORKLOADS

    jax.config.update("jax_enable_x64", True)
    workload = WORKLOADS[name].shortened(200)
    wanted = prepare_reference(workload, 1)()
    network = workload.network()
    pairs = zip(network.weights, network.biases, strict=True)
    params = [(jax.numpy.asarray(w.T.copy()), b) for w, b in pairs]
    data = jax_peer._batched_data(jax, workload)
    for gradient in jax_peer._gradients(jax, workload).values():
        trained = jax_peer._jitted_fit(jax, workload, gradient)(params, data)
        for (w, _), reference in zip(trained, wanted, strict=True):
            np.testing.assert_allclose(np.asarray(w).T, reference, rtol=1e-9, atol=1e-12)


def test_fastbp_bench_rejects_an_unknown_workload(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "fastbp", "bench", "--workloads", "W9"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "--workloads takes W1, W2, W3, W4, W3-momentum," in result.stderr
    assert "got 'W9'" in result.stderr


def test_selection_of_sections_and_workloads():
    assert compare._selection("users", None) == (
        ["users"],
        {"users": ["U1", "U2", "U3", "U4", "U5"]},
    )
    assert compare._selection(None, "U1,W4,F2,W3-adam,E0") == (
        ["kernels", "features", "users", "estimators", "first-fit"],
        {
            "kernels": ["W4"],
            "features": ["W3-adam"],
            "users": ["U1"],
            "estimators": ["E0"],
            "first-fit": ["F2"],
        },
    )
    assert compare._selection("kernels", "W2,U1")[1] == {"kernels": ["W2"]}
    with pytest.raises(SystemExit, match="no workload of --workloads is in --sections"):
        compare._selection("kernels", "U1")
    with pytest.raises(SystemExit, match="--sections takes kernels, features, users, estimators,"):
        compare._selection("speed", None)


def test_pinned_environment_sets_every_pool_and_drops_the_openblas_overrides(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.setenv("OPENBLAS_L2_SIZE", "524288")
    environment = compare._pinned_environment(2)
    assert "OPENBLAS_CORETYPE" not in environment and "OPENBLAS_L2_SIZE" not in environment
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        assert environment[variable] == "2"
    single = compare._pinned_environment(1)["XLA_FLAGS"]
    assert single == "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def test_sklearn_from_fastbp_start_records_fastbps_losses():
    workload = U1.shortened(600, 2)
    initial = initial_parameters(workload)
    fastbp = prepare_fastbp(workload, 1, initial)()
    sklearn = prepare_sklearn(workload, 1, initial)()
    np.testing.assert_allclose(sklearn, fastbp, rtol=1e-9)
    # The start really is the one given: from other weights the losses differ.
    moved = [(1.5 * w, b) for w, b in initial]
    assert abs(prepare_sklearn(workload, 1, moved)()[0] / fastbp[0] - 1) > 1e-3


def test_torch_loop_from_fastbp_start_records_fastbps_first_epoch_loss():
    pytest.importorskip("torch")
    from fastbp.benchmarking.user_peers import prepare_torch

    workload = U5.shortened(300, 1)  # momentum: the same update as fastbp's up to rounding
    initial = initial_parameters(workload)
    fastbp = prepare_fastbp(workload, 1, initial)()
    torch = prepare_torch(workload, 1, initial, record=True)()
    np.testing.assert_allclose(torch, fastbp, rtol=1e-9)


def _records(values, section="users"):
    records = []
    for workload, by_contender in values.items():
        for contender, value in by_contender.items():
            records.append(
                dict(
                    section=section,
                    workload=workload,
                    title="",
                    threads=1,
                    contender=contender,
                    value=value,
                    unit="s",
                )
            )
    return records


def test_plot_takes_a_log_axis_only_where_the_multiples_spread(tmp_path):
    near = _records({"U1 f64": {"fastbp": 1.0, "sklearn": 2.0, "torch": 3.0}})
    far = _records({"U5 f64": {"fastbp": 1.0, "sklearn": 17.0, "torch": 40.0}})
    first = _records({"F4": {"cold fit": 9.0, "warm fit": 0.3}}, section="first-fit")
    (axes,) = plot_results(near, tmp_path / "near.png").axes
    assert axes.get_yscale() == "linear"
    heights = sorted(bar.get_height() for bar in axes.patches)
    assert heights == pytest.approx([2.0, 3.0])  # multiples of fastbp's time
    ratios, fits = plot_results(near + far + first, tmp_path / "all.svg").axes
    assert ratios.get_yscale() == "log" and fits.get_yscale() == "log"
    assert (tmp_path / "all.svg").read_text().lstrip().startswith("<?xml")


def _installed(module):
    try:
        __import__(module)
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("case", list(sparse_section.CASES))
def test_the_sparse_cases_fit_the_same_in_both_libraries(case, tmp_path):
    """Each case's code, on its first 300 rows, in fresh processes: the same loss from
    fastbp's estimator and scikit-learn's, and the figures the section prints."""
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    losses = []
    for contender in sparse_section.CONTENDERS:
        figures = sparse_section._run(sparse_section.child_code(case, contender, 300), environment)
        assert figures["fit"] > 0 and figures["peak_mb"] > 0
        losses.append(figures["loss"])
    assert losses[0] == pytest.approx(losses[1], rel=1e-9)
