"""The ensembles section of ``fastbp bench``: N1-N2, many networks of one shape trained at once.

Contenders, per member-example visited (members times examples times epochs):

- fastbp: an ``Ensemble`` of the members, one ``Trainer.fit`` (``threads`` of the child);
- loop: fastbp's one-at-a-time loop, ``Trainer.fit`` per member (what users did before);
- jax: JAX's ``vmap`` over the members of a whole-fit ``jax.jit`` (``lax.scan`` over epochs
  and examples), the per-member learning rate a vmapped argument;
- "1 thread", above one thread: the ensemble on one thread, for the scaling.

Before anything is timed, every member of the ensemble must equal the loop's fit of that
member bit for bit, and JAX's to 1e-9, after a shortened fit.
"""

import dataclasses

import numpy as np

from fastbp.benchmarking.timing import print_table, record, time_interleaved
from fastbp.benchmarking.workloads import STREETLIGHTS, WALK_VS_STOP, random_classification
from fastbp.ensemble import Ensemble
from fastbp.network import Network
from fastbp.trainer import Trainer

QUICK_EPOCHS = 50
CHECK_EPOCHS = 5


@dataclasses.dataclass(frozen=True)
class EnsembleWorkload:
    name: str
    title: str
    sizes: tuple
    activations: tuple
    bias: bool
    n_members: int
    n_samples: int
    epochs: int
    rates: tuple  # the lowest and highest member's learning rate, spread evenly

    @property
    def units(self):
        return self.n_members * self.n_samples * self.epochs

    def data(self):
        if self.name == "N1":
            return STREETLIGHTS.copy(), WALK_VS_STOP.copy()
        return random_classification(self.sizes[0], self.sizes[-1], self.n_samples)

    def networks(self):
        return [
            Network(list(self.sizes), activations=list(self.activations), bias=self.bias,
                    init="uniform", seed=seed)
            for seed in range(self.n_members)
        ]  # fmt: skip

    def learning_rates(self):
        return list(np.linspace(*self.rates, self.n_members))

    def with_epochs(self, epochs):
        return dataclasses.replace(self, epochs=epochs)


N1 = EnsembleWorkload(
    "N1",
    "256 streetlight nets 3-4-1 relu/identity, per-example SGD, each its own learning rate",
    (3, 4, 1),
    ("relu", "identity"),
    False,
    256,
    4,
    2_000,
    (0.005, 0.02),
)
N2 = EnsembleWorkload(
    "N2",
    "32 nets 64-32-10 sigmoid with biases, per-example SGD, each its own learning rate",
    (64, 32, 10),
    ("sigmoid", "sigmoid"),
    True,
    32,
    1_000,
    3,
    (0.05, 0.2),
)
ENSEMBLE_WORKLOADS = {workload.name: workload for workload in (N1, N2)}


def prepare_ensemble(workload, threads):
    X, Y = workload.data()
    networks = workload.networks()  # drawn once, as JAX's start is, outside the timing

    def run():
        ensemble = Ensemble(networks)
        Trainer(
            ensemble, learning_rate=workload.learning_rates(), batch_size=1, shuffle=False,
            threads=threads,
        ).fit(X, Y, epochs=workload.epochs)  # fmt: skip
        return ensemble.params

    run()  # compiles (or loads) the kernel outside the timing
    return run


def prepare_loop(workload, threads):
    X, Y = workload.data()
    networks = workload.networks()

    def run():
        params = []
        for network, rate in zip(networks, workload.learning_rates(), strict=True):
            network = network.copy()
            Trainer(network, learning_rate=rate, batch_size=1, shuffle=False).fit(
                X, Y, epochs=workload.epochs
            )
            params.append(network.params)
        return np.array(params)

    run()
    return run


def prepare_jax_vmap(workload, threads):
    """``jax.jit(jax.vmap(fit))``: each member's whole fit, per-example SGD in ``lax.scan``,
    the backward pass written out through each layer's output (fastbp's derivatives)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    X, Y = (jax.device_put(array) for array in workload.data())
    functions = {"relu": jax.nn.relu, "sigmoid": jax.nn.sigmoid, "identity": lambda z: z}
    slopes = {
        "relu": lambda a: (a > 0).astype(a.dtype),
        "sigmoid": lambda a: a * (1.0 - a),
        "identity": lambda a: jnp.ones_like(a),
    }
    activations = workload.activations

    def step(params, example, rate):
        x, y = example
        outputs = [x]
        for (w, b), name in zip(params, activations, strict=True):
            z = outputs[-1] @ w
            outputs.append(functions[name](z if b is None else z + b))
        delta = (outputs[-1] - y) * slopes[activations[-1]](outputs[-1])
        updated = [None] * len(params)
        for layer in reversed(range(len(params))):
            w, b = params[layer]
            below = delta @ w.T
            updated[layer] = (
                w - rate * jnp.outer(outputs[layer], delta),
                None if b is None else b - rate * delta,
            )
            if layer:
                delta = below * slopes[activations[layer - 1]](outputs[layer])
        return updated

    def fit(params, rate):
        def epoch(p, _):
            return jax.lax.scan(lambda q, xy: (step(q, xy, rate), None), p, (X, Y))[0], None

        return jax.lax.scan(epoch, params, None, length=workload.epochs)[0]

    networks = workload.networks()
    stacked = [
        (
            jnp.asarray(np.stack([n.weights[layer] for n in networks])),
            None if networks[0].biases[layer] is None
            else jnp.asarray(np.stack([n.biases[layer] for n in networks])),
        )
        for layer in range(len(networks[0].weights))
    ]  # fmt: skip
    rates = jnp.asarray(workload.learning_rates())
    fitted = jax.jit(jax.vmap(fit))

    def run():
        trained = jax.block_until_ready(fitted(stacked, rates))
        return np.concatenate(
            [
                np.concatenate([np.asarray(w).reshape(len(networks), -1)]
                               + ([] if b is None else [np.asarray(b)]), axis=1)
                for w, b in trained
            ],
            axis=1,
        )  # fmt: skip

    run()
    return run


CONTENDERS = {"fastbp": prepare_ensemble, "loop": prepare_loop, "jax": prepare_jax_vmap}


def run_ensembles(names, peers, repeats, threads, quick, results_file):
    print(f"{'workload':<10} {'contender':<10} {'ns/member-ex':>12} {'x fastbp':>10}  units")
    for name in names:
        workload = ENSEMBLE_WORKLOADS[name]
        if quick:
            workload = workload.with_epochs(min(workload.epochs, QUICK_EPOCHS))
        print(f"{name}: {workload.title}; check: {_check(workload, peers)}")
        runs = {"fastbp": (prepare_ensemble(workload, threads), workload.units)}
        if threads > 1:
            runs["1 thread"] = (prepare_ensemble(workload, 1), workload.units)
        runs["loop"] = (prepare_loop(workload, threads), workload.units)
        if "jax" in peers:
            try:
                runs["jax"] = (prepare_jax_vmap(workload, threads), workload.units)
            except ImportError:
                pass
        medians = time_interleaved(runs, repeats)
        print_table(name, medians, 1e9, 2, {c: n for c, (_, n) in runs.items()})
        for contender, seconds in medians.items():
            record(
                results_file,
                section="ensembles",
                workload=name,
                title=workload.title,
                threads=threads,
                contender=contender,
                value=seconds * 1e9,
                unit="ns/member-example",
            )
        print(flush=True)


def _check(workload, peers):
    """Every member of a short ensemble fit equals the loop's bit for bit, and JAX's to 1e-9."""
    short = workload.with_epochs(CHECK_EPOCHS)
    ensemble = prepare_ensemble(short, 1)()
    np.testing.assert_array_equal(ensemble, prepare_loop(short, 1)(), err_msg="loop")
    checked = "members equal the loop's bit for bit"
    if "jax" in peers:
        try:
            jax_params = prepare_jax_vmap(short, 1)()
        except ImportError:
            return checked
        # JAX's parameter order per member: each layer's weights then bias, as fastbp's.
        np.testing.assert_allclose(jax_params, ensemble, rtol=1e-9, atol=1e-12, err_msg="jax")
        checked += " and JAX's to 1e-9"
    return checked
