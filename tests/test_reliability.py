"""Reliability: divergence, Ctrl-C, chunked fits, concurrent fits, class labels."""

import signal
import threading
import time
import warnings

import numpy as np
import pytest

from fastbp import (
    DivergenceError,
    FitInterruptedWarning,
    FitWarning,
    Network,
    Trainer,
    _chunks,
    reference,
)

RNG = np.random.default_rng(0)
X = RNG.normal(size=(20, 3))
Y = RNG.normal(size=(20, 2))


def reference_fit(net, trainer, X, Y, epochs):
    return reference.fit(
        [W.copy() for W in net.weights],
        [None if b is None else b.copy() for b in net.biases],
        list(net.activations),
        np.asarray(X, dtype=net.dtype),
        np.asarray(Y, dtype=net.dtype).reshape(len(X), -1),
        epochs=epochs,
        learning_rate=trainer.learning_rate,
        batch_size=trainer.batch_size,
        reduction=trainer.reduction,
        loss=trainer.loss,
        shuffle=trainer.shuffle,
        seed=trainer.seed,
    )


# (network, trainer settings, X, Y, what diverges). A fit on its way to divergence amplifies
# last-bit rounding differences (the reference sums through BLAS, the kernels in index order)
# with every epoch; these diverge fast enough for the weights to agree to 1e-9 still.
DIVERGING = [
    ((([3, 5, 2], ["tanh", "identity"]), {"learning_rate": 1.0, "batch_size": 4}), X, Y, "loss"),
    ((([3, 5, 2], ["relu", "identity"]), {"learning_rate": 3.0, "batch_size": 1}), X, Y, "loss"),
    ((([3, 5, 2], ["sigmoid", "identity"]), {"learning_rate": 1e3, "batch_size": 8}), X, Y, "loss"),
    # A full-batch step that overflows a weight while the epoch's loss is still finite.
    (
        (([1, 1], ["identity"]), {"learning_rate": 1e10, "batch_size": None}),
        [[1e150], [1e150]],
        [0, 0],
        "params",
    ),
]


@pytest.mark.parametrize(
    ("kernel", "architecture", "X", "Y", "metric"),
    [
        (kernel, *case)
        for case in DIVERGING
        for kernel in ("generic", "unrolled", "matrix")
        if kernel != "matrix" or case[0][1]["batch_size"] != 1  # matrix: batches of 2 or more
    ],
)
def test_divergence_stops_at_the_epoch_the_reference_does_and_keeps_the_last_finite_weights(
    kernel, architecture, X, Y, metric
):
    (sizes, activations), settings = architecture
    net = Network(sizes, activations=activations, bias=sizes != [1, 1], seed=3)
    trainer = Trainer(net, shuffle=True, seed=5, kernel=kernel, **settings)
    with pytest.raises(DivergenceError) as expected:
        reference_fit(net, trainer, X, Y, epochs=300)
    with pytest.raises(DivergenceError, match="training diverged") as raised:
        trainer.fit(X, Y, epochs=300, metrics=["mae"])
    error, oracle = raised.value, expected.value
    assert (error.epoch, error.metric) == (oracle.epoch, oracle.metric) == (oracle.epoch, metric)
    assert not np.isfinite(error.value)
    assert error.history is trainer.history and error.history.epochs == error.epoch
    np.testing.assert_allclose(error.history["loss"], oracle.history["loss"], rtol=1e-9)
    np.testing.assert_allclose(error.history["mae"], oracle.history["mae"], rtol=1e-9)
    for ours, theirs in zip(net.weights, oracle.weights, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    assert np.isfinite(net.params).all()


def test_a_fit_gives_the_same_result_however_it_is_chunked(monkeypatch):
    def fit(first_chunk_visits, seconds):
        monkeypatch.setattr(_chunks, "FIRST_CHUNK_VISITS", first_chunk_visits)
        monkeypatch.setattr(_chunks, "CHUNK_SECONDS", seconds)
        net = Network([3, 6, 2], activations=["tanh", "sigmoid"], seed=2)
        history = Trainer(net, learning_rate=0.1, batch_size=3, seed=9).fit(X, Y, epochs=97)
        return net.params, history["loss"]

    whole = fit(10**9, 10.0)  # one chunk
    for cut in [(1, 0.0), (40, 1e-6), (100, 1e-4)]:
        params, loss = fit(*cut)  # chunks of 1 epoch, of about 2, growing
        np.testing.assert_array_equal(params, whole[0])
        np.testing.assert_array_equal(loss, whole[1])


def test_ctrl_c_stops_at_a_chunk_boundary_and_keeps_a_consistent_network(monkeypatch):
    monkeypatch.setattr(_chunks, "CHUNK_SECONDS", 0.02)
    net = Network([3, 16, 2], activations=["tanh", "identity"], seed=1)
    start = net.params.copy()
    trainer = Trainer(net, learning_rate=0.001, batch_size=1, seed=4, kernel="generic")
    trainer.fit(X, Y, epochs=1)  # compile before the clock starts
    net.params[:] = start
    trainer = Trainer(net, learning_rate=0.001, batch_size=1, seed=4, kernel="generic")

    # Whatever handler was there is put back: Python's default, or SIG_IGN where the test
    # runs as a background job of a shell without job control.
    handler = signal.getsignal(signal.SIGINT)
    timer = threading.Timer(0.5, signal.raise_signal, args=(signal.SIGINT,))
    timer.start()
    with pytest.warns(FitInterruptedWarning, match="interrupted after"):
        history = trainer.fit(X, Y, epochs=10**8)
    timer.join()
    assert history.interrupted and 0 < history.epochs < 10**8
    assert signal.getsignal(signal.SIGINT) is handler

    # The network and history are exactly those of a fit of that many epochs.
    replay = Network([3, 16, 2], activations=["tanh", "identity"], seed=1)
    replayed = Trainer(replay, learning_rate=0.001, batch_size=1, seed=4).fit(
        X, Y, epochs=history.epochs
    )
    np.testing.assert_array_equal(net.params, replay.params)
    np.testing.assert_array_equal(history["loss"], replayed["loss"])
    assert not replayed.interrupted


def _fit(seed, results, key):
    net = Network([3, 32, 2], activations=["tanh", "identity"], seed=seed)
    history = Trainer(net, learning_rate=0.01, batch_size=1, seed=seed).fit(X, Y, epochs=2000)
    results[key] = (net.params.copy(), history["loss"].copy())


def test_two_threads_fit_two_networks_with_the_results_of_fitting_each_alone():
    alone = {}
    for seed in (1, 2):
        _fit(seed, alone, seed)
    together = {}
    threads = [threading.Thread(target=_fit, args=(seed, together, seed)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for seed in (1, 2):
        np.testing.assert_array_equal(together[seed][0], alone[seed][0])
        np.testing.assert_array_equal(together[seed][1], alone[seed][1])


def test_fitting_one_network_from_two_threads_at_once_is_refused():
    net = Network([3, 32, 2], seed=0)
    Trainer(net, batch_size=1).fit(X, Y, epochs=1)  # compiled before the race
    worker = threading.Thread(target=Trainer(net, batch_size=1).fit, args=(X, Y, 200_000))
    worker.start()
    deadline = time.monotonic() + 30
    while not net._fit_lock.locked() and time.monotonic() < deadline:
        time.sleep(0.001)
    before = net.params.copy()
    with pytest.raises(RuntimeError, match="already being fitted in another thread"):
        Trainer(net).fit(X, Y, epochs=1)
    worker.join()
    assert not np.array_equal(before, net.params)  # the first fit went on and committed


def test_integer_class_labels_are_one_hot_encoded_for_cross_entropy():
    labels = np.array([0, 2, 1, 2, 0, 1])
    inputs = RNG.normal(size=(6, 3))
    settings = {"learning_rate": 0.1, "batch_size": 2, "loss": "cross_entropy", "seed": 0}
    histories = []
    for targets in (labels, np.eye(3)[labels]):
        net = Network([3, 4, 3], activations=["relu", "softmax"], seed=0)
        histories.append((Trainer(net, **settings).fit(inputs, targets, epochs=5), net.params))
    np.testing.assert_array_equal(histories[0][1], histories[1][1])
    np.testing.assert_array_equal(histories[0][0]["loss"], histories[1][0]["loss"])


@pytest.mark.parametrize("labels", [[0, 1, 3], [-1, 0, 1]])
def test_class_labels_out_of_range_are_named(labels):
    net = Network([2, 3], activations="softmax", seed=0)
    before = net.params.copy()
    with pytest.raises(ValueError, match=r"y holds class labels, which must lie in \[0, 3\)"):
        Trainer(net, loss="cross_entropy").fit(np.zeros((3, 2)), np.array(labels))
    np.testing.assert_array_equal(net.params, before)


def test_progress_bar_reports_epochs_and_rate_when_asked(capsys):
    net = Network([3, 4, 2], seed=0)
    Trainer(net).fit(X, Y, epochs=50, progress=True)
    line = capsys.readouterr().err
    assert "50/50 epochs" in line and "epochs/s" in line and "loss" in line
    Trainer(net).fit(X, Y, epochs=50)  # automatic: not a terminal here, so silent
    assert capsys.readouterr().err == ""


def test_a_fit_hands_the_kernel_x_itself_when_it_is_already_contiguous_and_of_its_dtype(
    monkeypatch,
):
    from fastbp import _kernels

    seen = []
    choose_kernel = _kernels.kernel_and_scratch

    def spying(name, network, settings, options, features):
        kernel, size = choose_kernel(name, network, settings, options, features)

        def spy(state, layout, data, *rest):
            seen.append(data.X)
            return kernel(state, layout, data, *rest)

        return spy, size

    monkeypatch.setattr(_kernels, "kernel_and_scratch", spying)
    for dtype in (np.float64, np.float32):
        inputs = np.ascontiguousarray(X, dtype=dtype)
        net = Network([3, 4, 2], seed=0, dtype=dtype)
        Trainer(net).fit(inputs, Y, epochs=3)
        assert seen and all(x is inputs for x in seen)
        seen.clear()


def test_read_only_memory_mapped_data_trains_and_is_never_written(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, X)
    before = path.read_bytes()
    mapped = np.load(path, mmap_mode="r")
    assert not mapped.flags.writeable
    net = Network([3, 4, 2], seed=0)
    history = Trainer(net, seed=0).fit(mapped, Y, epochs=5)
    twin = Network([3, 4, 2], seed=0)
    np.testing.assert_array_equal(
        history["loss"], Trainer(twin, seed=0).fit(X, Y, epochs=5)["loss"]
    )
    np.testing.assert_array_equal(net.params, twin.params)
    del mapped
    assert path.read_bytes() == before


def test_pandas_frames_and_series_are_accepted():
    import pandas  # installed by the test extra

    frame = pandas.DataFrame(X, columns=["a", "b", "c"])
    labels = pandas.Series(np.arange(20) % 3)
    net = Network([3, 4, 3], activations=["relu", "softmax"], seed=0)
    twin = net.copy()
    settings = {"loss": "cross_entropy", "seed": 1}
    from_pandas = Trainer(net, **settings).fit(frame, labels, epochs=4)
    from_numpy = Trainer(twin, **settings).fit(X, labels.to_numpy(), epochs=4)
    np.testing.assert_array_equal(from_pandas["loss"], from_numpy["loss"])
    np.testing.assert_array_equal(net.predict(frame), twin.predict(X))
    mixed = frame.assign(c=["x"] * 20)
    with pytest.raises(TypeError, match="X must be a numeric array; got dtype object"):
        Trainer(net).fit(mixed, labels)


def test_a_fit_whose_loss_rose_or_whose_outputs_are_one_value_says_so():
    """Two finite fits that went wrong: each gives a FitWarning naming what it found, and its
    history keeps the sentence; a fit that went well gives none."""
    inputs = np.linspace(-1, 1, 40)[:, None]
    targets = 3 * inputs[:, 0]
    net = Network([1, 1], activations="identity", seed=0)
    # A step above 2 / curvature (the curvature in w is mean(x**2), about 0.35) overshoots
    # further each epoch, 1.46 times, and stays finite over five.
    with pytest.warns(FitWarning, match="the loss rose over the fit, from .* to .*"):
        history = Trainer(net, learning_rate=7.0, batch_size=None).fit(inputs, targets, epochs=5)
    assert history.warnings[0].startswith("the loss rose over the fit")

    dead = Network([1, 4, 1], activations=["relu", "identity"], seed=0)
    dead.weights[0][:] = 0.0  # no gradient reaches the hidden layer: its outputs stay 0
    dead.biases[0][:] = -1.0
    with warnings.catch_warnings():  # its loss may rise: only the outputs matter here
        warnings.simplefilter("ignore", FitWarning)
        short = Trainer(dead, learning_rate=0.1).fit(inputs, targets, epochs=3)
    assert not any("same output" in sentence for sentence in short.warnings)  # CHECKED_WORK
    # 40 examples x 6,250 epochs x 8 weights: the 2 million weight-visits that pay for it.
    with pytest.warns(FitWarning, match=r"the network gives the same output \(.*\) for each of"):
        history = Trainer(dead, learning_rate=0.1).fit(inputs, targets, epochs=6250)
    assert np.all(dead.predict(inputs) == dead.predict(inputs)[0])
    assert any("same output" in sentence for sentence in history.warnings)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = Trainer(Network([1, 1], activations="identity", seed=0), learning_rate=0.1).fit(
            inputs, targets, epochs=5
        )
    assert history.warnings == ()
