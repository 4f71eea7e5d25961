"""``fastbp.Ensemble``: each member trained with the others ends exactly as the same network
trained alone by ``Trainer.fit`` with that member's settings.

The ensemble's kernel is one per training feature set and dtype, whatever the layout, so the
draws below vary architectures, per-member learning rates, L2, seeds and sample weights freely
while compiling few kernels: per-example SGD with L2, Adam per example and in batches, batches
with momentum, per-example dropout (and their single-network twins); a given order and the
exp output run on those same kernels (the order is guarded, the loss and output read at run
time). The arithmetic of every lane is the generic kernel's, so members are compared bit for
bit (``==``, which also takes -0.0 for 0.0). The single fits of unweighted members are given
weights of 1, which round as none do (a product by 1 is exact), so that they share the
weighted fits' kernel: the ensemble's kernel tallies every loss so.

Every test runs on both ways an ensemble trains: its members side by side in lanes
(``kernels.lanes``) and in turn, each on the generic kernel of one network
(``kernels.members``), which a fit picks by the network's size and the fit's batches and
optimizer (``fastbp._ensemble_fit._in_turn``); here each is forced in turn.
"""

import warnings
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastbp
from fastbp import (
    DivergenceError,
    Ensemble,
    MemberDivergenceWarning,
    Network,
    Trainer,
    _ensemble_fit,
)
from fastbp.optimizers import SGD, Adam

RNG = np.random.default_rng(21)


@pytest.fixture(params=["lanes", "in turn"], autouse=True)
def ensemble_path(request):
    """Run the test with the members trained in lanes, or in turn whatever their size and
    fit (but where the lanes written out for a tiny layout run)."""
    in_turn = request.param == "in turn"
    with mock.patch.object(_ensemble_fit, "_in_turn", lambda trainer, plan: in_turn):
        yield request.param


X = RNG.uniform(-1, 1, (9, 3))
Y = RNG.integers(0, 2, (9, 2)).astype(float)

ARCHITECTURES = [
    ([3, 4, 1], ["relu", "identity"], True),
    ([3, 5, 2], ["tanh", "sigmoid"], [False, True]),
    ([3, 3, 4, 2], ["sigmoid", "relu", "identity"], True),
    ([3, 17, 2], ["relu", "tanh"], [True, False]),  # a layer of 16 or more: the wide paths
]


def members(architecture, n_members, seed=0):
    sizes, activations, bias = architecture
    return [
        Network(sizes, activations=activations, bias=bias, init="uniform", seed=seed + k)
        for k in range(n_members)
    ]


def targets(architecture):
    return Y[:, : architecture[0][-1]]


def alone(network, X, y, epochs, fit_options=None, **settings):
    """``network`` (a copy) trained alone: its parameters and history, or the history
    before the epoch it diverged in."""
    network = network.copy()
    trainer = Trainer(network, **settings)
    try:
        history = trainer.fit(
            X, y, epochs=epochs, metrics=["mae", "accuracy"], **(fit_options or {})
        )
    except DivergenceError as error:
        history = error.history
    return network.params, history


def member_settings(settings, k):
    return {
        name: value[k] if isinstance(value, list) else value for name, value in settings.items()
    }


def assert_members_alone(
    nets, ensemble, history, epochs, settings, weights=None, data=(X, Y), fit_options=None
):
    inputs, outputs = data
    for k, network in enumerate(nets):
        if weights is None:
            weights = np.ones(inputs.shape[0])
        member_weights = weights[k] if np.ndim(weights) == 2 else weights
        options = {**(fit_options or {}), "sample_weight": member_weights}
        y = outputs[:, : network.n_outputs]
        params, single = alone(network, inputs, y, epochs, options, **member_settings(settings, k))
        np.testing.assert_array_equal(ensemble.network(k).params, params, err_msg=f"member {k}")
        for name in ("loss", "mae", "accuracy"):
            np.testing.assert_array_equal(history[name][: single.epochs, k], single[name])


@settings(deadline=None, max_examples=12, suppress_health_check=[HealthCheck.too_slow])
@given(
    architecture=st.sampled_from(ARCHITECTURES),
    n_members=st.integers(1, 11),
    data=st.data(),
    shuffle=st.booleans(),
    l2_biases=st.booleans(),
    clip_value=st.sampled_from([None, 0.5]),
    weighting=st.sampled_from(["none", "shared", "per member"]),
)
def test_per_example_members_equal_single_fits(
    architecture, n_members, data, shuffle, l2_biases, clip_value, weighting
):
    per_member = st.lists(st.sampled_from([0.05, 0.2, 0.7]), min_size=n_members, max_size=n_members)
    rates = data.draw(st.one_of(st.sampled_from([0.1, 0.4]), per_member))
    l2s = data.draw(
        st.lists(st.sampled_from([0.0, 0.01, 0.1]), min_size=n_members, max_size=n_members)
    )
    seeds = data.draw(
        st.one_of(
            st.integers(0, 2**40),
            st.lists(st.integers(0, 99), min_size=n_members, max_size=n_members),
        )
    )
    nets = members(architecture, n_members)
    weights = draw_weights(weighting, n_members)
    settings = {
        "learning_rate": rates,
        "l2": l2s,
        "seed": seeds,
        "batch_size": 1,
        "shuffle": shuffle,
        "l2_biases": l2_biases,
        "clip_value": clip_value,
    }
    ensemble = Ensemble(nets)
    history = together(ensemble, targets(architecture), 12, settings, weights)
    assert history["loss"].shape[1] == n_members
    assert_members_alone(nets, ensemble, history, 12, settings, weights)


def together(ensemble, y, epochs, settings, weights=None, fit_options=None):
    """``ensemble`` trained by one ``Trainer.fit``: its history, also when members (or all
    of them) diverged."""
    trainer = Trainer(ensemble, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MemberDivergenceWarning)
        try:
            return trainer.fit(
                X,
                y,
                epochs=epochs,
                metrics=["mae", "accuracy"],
                sample_weight=weights,
                **(fit_options or {}),
            )
        except DivergenceError as error:
            return error.history


def draw_weights(weighting, n_members):
    """Sample weights for ``weighting``: none, one row for all, or bootstrap counts."""
    if weighting == "shared":
        return RNG.integers(0, 3, X.shape[0]).astype(float) + 0.5
    if weighting == "per member":
        weights = RNG.poisson(1.0, (n_members, X.shape[0])).astype(float)
        weights[:, 0] += 1  # none empty
        return weights
    return None


def member_l2s(data, n_members, values=(0.0, 0.01)):
    """Per-member L2 drawn from ``values``, the first member's not 0: the ensemble's kernel
    then always decays (one kernel to compile rather than two), while its lanes may mix 0
    and not. Without 0 in ``values`` no single fit runs the kernel without L2 either."""
    rest = st.lists(st.sampled_from(values), min_size=n_members - 1, max_size=n_members - 1)
    return [0.01, *data.draw(rest)]


def drawn_settings(data, n_members, rates, l2s=(0.0, 0.01), seeds=None, **shared):
    """A fit's settings: each member's learning rate drawn from ``rates``, its L2 from
    ``l2s`` (``member_l2s``), its seed from 0-99 (or ``seeds``, a strategy), and ``shared``."""
    one_each = {"min_size": n_members, "max_size": n_members}
    return {
        "learning_rate": data.draw(st.lists(st.sampled_from(rates), **one_each)),
        "l2": member_l2s(data, n_members, values=l2s),
        "seed": data.draw(st.lists(st.integers(0, 99), **one_each) if seeds is None else seeds),
        **shared,
    }


@settings(deadline=None, max_examples=8, suppress_health_check=[HealthCheck.too_slow])
@given(
    architecture=st.sampled_from(ARCHITECTURES),
    n_members=st.integers(1, 11),
    data=st.data(),
    batch_size=st.sampled_from([1, 4]),
    shuffle=st.booleans(),
    adam=st.sampled_from([Adam(), Adam(beta_1=0.5, beta_2=0.9, epsilon=1e-6)]),
    weighting=st.sampled_from(["none", "shared", "per member"]),
)
def test_adam_members_equal_single_fits(
    architecture, n_members, data, batch_size, shuffle, adam, weighting
):
    # Each member's step size is bias-corrected from its own learning rate. L2 on the biases,
    # and members without L2 among others with, are the first test's: the same lines of Step
    # and more kernels to compile here.
    per_member = st.lists(
        st.sampled_from([0.001, 0.02, 0.1]), min_size=n_members, max_size=n_members
    )
    rates = data.draw(st.one_of(st.sampled_from([0.01, 0.05]), per_member))
    l2s = member_l2s(data, n_members, values=(0.01, 0.1))
    seeds = data.draw(st.lists(st.integers(0, 99), min_size=n_members, max_size=n_members))
    nets = members(architecture, n_members, seed=data.draw(st.integers(0, 50)))
    weights = draw_weights(weighting, n_members)
    settings = {
        "learning_rate": rates,
        "l2": l2s,
        "seed": seeds,
        "batch_size": batch_size,
        "shuffle": shuffle,
        "optimizer": adam,
    }
    ensemble = Ensemble(nets)
    history = together(ensemble, targets(architecture), 8, settings, weights)
    assert_members_alone(nets, ensemble, history, 8, settings, weights)


@settings(deadline=None, max_examples=6, suppress_health_check=[HealthCheck.too_slow])
@given(
    architecture=st.sampled_from(ARCHITECTURES),
    n_members=st.integers(1, 11),
    data=st.data(),
    batch_size=st.sampled_from([1, 4]),
    shuffle=st.booleans(),
    chunked=st.booleans(),
    order_seed=st.integers(0, 2**32 - 1),
)
def test_a_given_order_members_equal_single_fits(
    architecture, n_members, data, batch_size, shuffle, chunked, order_seed
):
    # Every member visits the caller's order, in place of its shuffle; in chunks of epochs
    # (callbacks) each chunk takes its own rows of it. The kernels are the first test's and
    # the batches test's: a given order is guarded, so fits with and without share them.
    epochs = 7
    rng = np.random.default_rng(order_seed)
    order = np.array([rng.permutation(X.shape[0]) for _ in range(epochs)])
    settings = drawn_settings(
        data,
        n_members,
        [0.05, 0.2],
        batch_size=batch_size,
        shuffle=shuffle,
        optimizer=SGD() if batch_size == 1 else SGD(momentum=0.8),
    )
    nets = members(architecture, n_members, seed=data.draw(st.integers(0, 50)))
    ensemble = Ensemble(nets)
    fit_options = {"order": order}
    if chunked:
        fit_options.update(callbacks=[lambda epoch, history: False], callback_every=3)
    history = together(ensemble, targets(architecture), epochs, settings, None, fit_options)
    assert_members_alone(nets, ensemble, history, epochs, settings, fit_options={"order": order})


COUNTS = RNG.poisson(1.5, (X.shape[0], 2)).astype(float)


@settings(deadline=None, max_examples=6, suppress_health_check=[HealthCheck.too_slow])
@given(
    architecture=st.sampled_from(ARCHITECTURES),
    n_members=st.integers(1, 11),
    data=st.data(),
    loss=st.sampled_from(["poisson", "squared_error"]),
    batch_size=st.sampled_from([1, 4]),
    weighting=st.sampled_from(["none", "per member"]),
)
def test_exp_output_members_equal_single_fits(
    architecture, n_members, data, loss, batch_size, weighting
):
    # The architectures with an exp output, trained on counts by half the Poisson deviance
    # (its canonical link) or by squared error; the kernels are the first test's and the
    # batches test's, whose loss and output are read at run time.
    sizes, activations, bias = architecture
    architecture = (sizes, [*activations[:-1], "exp"], bias)
    settings = drawn_settings(
        data,
        n_members,
        [0.01, 0.05],
        batch_size=batch_size,
        loss=loss,
        optimizer=SGD() if batch_size == 1 else SGD(momentum=0.8),
    )
    nets = members(architecture, n_members, seed=data.draw(st.integers(0, 50)))
    weights = draw_weights(weighting, n_members)
    y = COUNTS[:, : sizes[-1]]
    ensemble = Ensemble(nets)
    history = together(ensemble, y, 8, settings, weights)
    assert_members_alone(nets, ensemble, history, 8, settings, weights, data=(X, COUNTS))


@settings(deadline=None, max_examples=6, suppress_health_check=[HealthCheck.too_slow])
@given(
    architecture=st.sampled_from(ARCHITECTURES),
    n_members=st.integers(1, 11),
    data=st.data(),
    dropout=st.sampled_from([0.2, 0.5]),
    shuffle=st.booleans(),
    weighting=st.sampled_from(["none", "per member"]),
)
def test_dropout_members_equal_single_fits(
    architecture, n_members, data, dropout, shuffle, weighting
):
    # Per example, each member drops its hidden units by draws from its own generator (its
    # seed's, after its shuffle's), the sequence it draws alone. Every member decays, as in
    # the Adam test.
    seeds = st.one_of(
        st.integers(0, 2**40), st.lists(st.integers(0, 99), min_size=n_members, max_size=n_members)
    )
    settings = drawn_settings(
        data,
        n_members,
        [0.05, 0.3],
        l2s=(0.01, 0.1),
        seeds=seeds,
        batch_size=1,
        shuffle=shuffle,
        dropout=dropout,
    )
    nets = members(architecture, n_members, seed=data.draw(st.integers(0, 50)))
    weights = draw_weights(weighting, n_members)
    ensemble = Ensemble(nets)
    history = together(ensemble, targets(architecture), 8, settings, weights)
    assert_members_alone(nets, ensemble, history, 8, settings, weights)


@pytest.mark.parametrize(
    ("reduction", "optimizer"),
    [("mean", SGD(momentum=0.8)), ("sum", SGD(momentum=0.8)), ("mean", Adam())],
)
def test_batches_with_momentum_or_adam_equal_single_fits(reduction, optimizer):
    architecture = ARCHITECTURES[2]
    nets = members(architecture, 10, seed=5)
    settings = {
        "learning_rate": [0.05 * (k + 1) for k in range(10)],
        "l2": 0.01,
        "seed": list(range(10)),
        "batch_size": 4,
        "reduction": reduction,
        "optimizer": optimizer,
    }
    ensemble = Ensemble(nets)
    trainer = Trainer(ensemble, **settings)
    first = trainer.fit(X, targets(architecture), epochs=5, metrics=["mae", "accuracy"])
    history = trainer.fit(X, targets(architecture), epochs=5, metrics=["mae", "accuracy"])
    # Two fits continue as one (the shuffles, momenta, moments and update count carry over).
    joined = {name: np.vstack([first[name], history[name]]) for name in history}
    assert_members_alone(nets, ensemble, joined, 10, settings)


@pytest.mark.parametrize("metrics", [["sse", "mse"], ["accuracy", "loss", "mae"], []])
def test_the_history_holds_each_metric_asked_for_as_single_fits_record_it(metrics):
    nets = members(ARCHITECTURES[2], 3)
    ensemble = Ensemble(nets)
    history = Trainer(ensemble, learning_rate=[0.1, 0.2, 0.3], batch_size=1, seed=5).fit(
        X, targets(ARCHITECTURES[2]), epochs=7, metrics=metrics
    )
    assert sorted(history) == sorted({"loss", *metrics})
    for k, network in enumerate(nets):
        single = Trainer(network.copy(), learning_rate=[0.1, 0.2, 0.3][k], batch_size=1, seed=5)
        alone = single.fit(
            X, targets(ARCHITECTURES[2]), epochs=7, metrics=metrics, sample_weight=np.ones(9)
        )
        for name in history:
            np.testing.assert_array_equal(history[name][:, k], alone[name], err_msg=name)


def test_two_threads_train_as_one():
    nets = members(ARCHITECTURES[0], 20)
    results = []
    for threads in (1, 2):
        ensemble = Ensemble(nets)
        trainer = Trainer(
            ensemble, learning_rate=0.1, l2=[0.0, 0.01] * 10, batch_size=1, seed=4, threads=threads
        )
        results.append(
            (trainer.fit(X, targets(ARCHITECTURES[0]), epochs=20)["loss"], ensemble.params)
        )
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_a_diverging_member_stops_at_its_last_finite_epoch():
    architecture = ARCHITECTURES[0]
    nets = members(architecture, 4)
    settings = {
        "learning_rate": [0.02, 2.0, 0.05, 0.1],
        "l2": [0, 0, 0, 1e-3],
        "batch_size": 1,
        "seed": 3,
    }
    ensemble = Ensemble(nets)
    with pytest.warns(MemberDivergenceWarning, match="member 1 in epoch"):
        history = Trainer(ensemble, **settings).fit(
            X, targets(architecture), epochs=60, metrics=["mae", "accuracy"]
        )
    assert [member for member, _ in history.diverged] == [1]
    epoch = history.diverged[0][1]
    assert np.isnan(history["loss"][epoch:, 1]).all() and np.isfinite(history["loss"][:epoch]).all()
    assert_members_alone(nets, ensemble, history, 60, settings)
    _, single = alone(
        nets[1],
        X,
        targets(architecture),
        60,
        {"sample_weight": np.ones(9)},
        **member_settings(settings, 1),
    )
    assert single.epochs == epoch  # the single fit raised in that epoch

    everyone = Ensemble(members(architecture, 2))
    with pytest.raises(DivergenceError, match="every member") as raised:
        Trainer(everyone, learning_rate=[4.0, 6.0], l2=1e-3, batch_size=1, seed=3).fit(
            X, targets(architecture), epochs=60
        )
    assert sorted(member for member, _ in raised.value.history.diverged) == [0, 1]
    assert np.isfinite(everyone.params).all()


def test_a_member_diverging_in_a_later_chunk_of_a_given_order_is_replayed_on_its_rows():
    # Chunks of 2 epochs; member 1 diverges in epoch 3, in the second chunk, whose replay
    # (to find the epoch and rewind the member) must visit that chunk's rows of the order.
    architecture = ARCHITECTURES[0]
    nets = members(architecture, 4)
    order = np.array([np.random.default_rng(e).permutation(X.shape[0]) for e in range(20)])
    settings = {"learning_rate": [0.02, 2.0, 0.05, 0.1], "l2": [0, 0, 0, 1e-3], "batch_size": 1}
    ensemble = Ensemble(nets)
    fit_options = {"order": order, "callbacks": [lambda epoch, history: False], "callback_every": 2}
    history = together(ensemble, targets(architecture), 20, settings, None, fit_options)
    assert history.diverged == [(1, 3)]
    assert_members_alone(nets, ensemble, history, 20, settings, fit_options={"order": order})


def test_contract(tmp_path):
    ensemble = Ensemble.from_seeds([3, 4, 2], seeds=[4, 5, 6], activations="sigmoid")
    assert len(ensemble) == 3 and ensemble.seeds == [4, 5, 6]
    outputs = ensemble.predict(X)
    assert outputs.shape == (3, X.shape[0], 2)
    for k in range(3):
        member = ensemble.network(k)
        assert member.seed == 4 + k
        np.testing.assert_array_equal(
            member.params, Network([3, 4, 2], activations="sigmoid", seed=4 + k).params
        )
        np.testing.assert_array_equal(outputs[k], member.predict(X))
        member.params[:] = 0  # a copy: the ensemble is untouched
    np.testing.assert_array_equal(ensemble.predict(X), outputs)
    np.testing.assert_allclose(ensemble.predict(X, mean=True), outputs.mean(axis=0), rtol=1e-15)

    Trainer(ensemble, learning_rate=[0.1, 0.2, 0.3], l2=1e-3, batch_size=1, seed=1).fit(
        X, Y, epochs=2
    )
    path = tmp_path / "ensemble.npz"
    ensemble.save(path)
    loaded = fastbp.load(path)
    assert isinstance(loaded, Ensemble) and loaded.seeds == ensemble.seeds
    np.testing.assert_array_equal(loaded.params, ensemble.params)
    assert loaded.metadata == ensemble.metadata
    assert loaded.network(2).metadata["fits"][-1]["learning_rate"] == 0.3


def test_bad_input_is_refused_before_anything_runs():
    nets = members(ARCHITECTURES[0], 3)
    with pytest.raises(ValueError, match="networks must hold at least one"):
        Ensemble([])
    with pytest.raises(ValueError, match=r"networks\[1\] has sizes"):
        Ensemble([nets[0], members(ARCHITECTURES[1], 1)[0]])
    float32 = Network([3, 4, 1], activations=["relu", "identity"], dtype=np.float32)
    with pytest.raises(ValueError, match=r"networks\[1\] has dtype"):
        Ensemble([nets[0], float32])
    with pytest.raises(TypeError, match=r"networks\[0\] must be a fastbp.Network"):
        Ensemble(["net"])
    ensemble = Ensemble(nets)
    before = ensemble.params
    for name, value in (("learning_rate", [0.1, 0.2]), ("l2", [0.0] * 4), ("seed", [1])):
        with pytest.raises(ValueError, match=f"{name} must be one value for every member"):
            Trainer(ensemble, **{name: value})
    trainer = Trainer(ensemble, batch_size=1)
    y = targets(ARCHITECTURES[0])
    for weights in (np.ones((2, X.shape[0])), np.ones((3, X.shape[0] - 1)), np.ones(4)):
        with pytest.raises(ValueError, match="sample_weight"):
            trainer.fit(X, y, sample_weight=weights)
    with pytest.raises(ValueError, match="sample_weight is 0 for every sample of member 1"):
        trainer.fit(X, y, sample_weight=np.eye(3, X.shape[0]) * [[1], [0], [1]])
    for refused, fit_options, named in (
        ({"optimizer": "rprop", "batch_size": None}, {}, "rprop"),
        ({"clip_norm": 1.0}, {}, "clip_norm"),
        ({"dropout": 0.2, "batch_size": 4}, {}, "dropout_in_batches"),
        ({"schedule": "invscaling"}, {}, "schedule"),
        ({}, {"validation_data": (X, y)}, "validation"),
        ({}, {"patience": 3}, "patience"),
        ({"kernel": "matrix"}, {}, "kernel"),
    ):
        with pytest.raises(ValueError, match=named):
            Trainer(ensemble, **{"batch_size": 1, **refused}).fit(X, y, **fit_options)
    # Values checked as one setting are checked again when given as another: the learning
    # rates are not seeds.
    checked = Trainer(ensemble, learning_rate=[0.1, 0.2, 0.3], batch_size=1)
    checked.seed = checked.learning_rate
    with pytest.raises(TypeError, match="seed must be an integer"):
        checked.fit(X, y)
    checked.learning_rate = (*checked.learning_rate, 0.4)
    with pytest.raises(ValueError, match="learning_rate must be one value for every member"):
        checked.fit(X, y)
    np.testing.assert_array_equal(ensemble.params, before)
    assert ensemble.metadata["fits"] == []


@pytest.mark.parametrize("shuffle", [True, False])
def test_lanes_unrolled_for_a_tiny_layout_equal_single_fits(shuffle):
    # The kernel long fits of tiny networks take, written out for the layout (forced here on
    # a short fit); a member per lane of one block and a few of the next. Unshuffled, every
    # lane reads the same example, once for all.
    architecture = ([3, 4, 2], ["relu", "sigmoid"], [True, False])
    n_members = 19
    nets = members(architecture, n_members)
    weights = RNG.poisson(1.0, (n_members, X.shape[0])).astype(float) + 0.25
    settings = {
        "learning_rate": [0.1 + 0.02 * k for k in range(n_members)],
        "l2": [0.0, 0.01] * 9 + [0.1],
        "seed": 8,
        "batch_size": 1,
        "clip_value": 0.8,
        "l2_biases": True,
        "shuffle": shuffle,
    }
    ensemble = Ensemble(nets)
    trainer = Trainer(ensemble, kernel="unrolled", **settings)
    history = trainer.fit(X, Y, epochs=15, metrics=["mae", "accuracy"], sample_weight=weights)
    assert_members_alone(nets, ensemble, history, 15, settings, weights)


@pytest.mark.parametrize("batch_size", [1, 3])
def test_lanes_unrolled_with_adam_equal_single_fits(batch_size):
    # The written-out lanes with Adam: each lane's step size, per example and in batches (a
    # small layout: each is a kernel written out and compiled for it).
    architecture = ([3, 3, 1], ["tanh", "sigmoid"], [True, False])
    n_members = 19
    nets = members(architecture, n_members, seed=30)
    settings = {
        "learning_rate": [0.002 * (k + 1) for k in range(n_members)],
        "l2": [0.01, 0.1] * 9 + [0.05],
        "seed": list(range(n_members)),
        "batch_size": batch_size,
        "optimizer": Adam(beta_1=0.8),
    }
    ensemble = Ensemble(nets)
    trainer = Trainer(ensemble, kernel="unrolled", **settings)
    history = trainer.fit(X, targets(architecture), epochs=10, metrics=["mae", "accuracy"])
    assert_members_alone(nets, ensemble, history, 10, settings)


def test_exp_outputs_and_dropout_are_not_unrolled():
    # kernels.unrolled writes out neither an exp output nor dropout: forcing the written-out
    # lanes is refused, before anything runs, and a fit long enough to choose them (32
    # members, 9 examples, 350 epochs: 100,800 visits) takes the generic lanes.
    nets = members(([3, 4, 2], ["tanh", "exp"], True), 3)
    ensemble = Ensemble(nets)
    with pytest.raises(ValueError, match=r"kernel 'unrolled' does not run .*\(poisson, exp\)"):
        Trainer(ensemble, kernel="unrolled", loss="poisson").fit(X, COUNTS)
    np.testing.assert_array_equal(ensemble.network(1).params, nets[1].params)
    assert ensemble.metadata["fits"] == []

    architecture = ([3, 4, 2], ["tanh", "sigmoid"], True)
    nets = members(architecture, 32)
    settings = {"learning_rate": 0.1, "l2": 0.01, "seed": list(range(32)), "batch_size": 1}
    ensemble = Ensemble(nets)
    history = together(ensemble, Y, 350, {**settings, "dropout": 0.3})
    assert_members_alone(nets, ensemble, history, 350, {**settings, "dropout": 0.3})
