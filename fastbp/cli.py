"""The ``fastbp`` command line.

``fastbp train`` trains the 3-layer XOR network of "A Neural Network in 11 lines of Python"
on its built-in data, printing the loss as it goes and the final predictions. ``fastbp bench``
runs the side-by-side comparison of fastbp.benchmarking.compare.
"""

import argparse
import sys
import time

import numpy as np

from fastbp.network import Network
from fastbp.trainer import Trainer

XOR_INPUTS = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
XOR_TARGETS = np.array([0.0, 1.0, 1.0, 0.0])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fastbp", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train", help="train the 11-line tutorial's 3-layer XOR network on its built-in data"
    )
    train.add_argument("--epochs", type=int, default=60000, help="passes over the data")
    train.add_argument("--learning-rate", type=float, default=1.0, help="step size")
    train.add_argument("--seed", type=int, default=1, help="seed of the initial weights")
    train.add_argument("--report-every", type=int, default=10000, help="epochs between lines")
    commands.add_parser(
        "bench",
        help="time fastbp beside the NumPy reference and the installed peers on W1-W4",
        add_help=False,
    )
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        # The comparison parses its own options (``fastbp bench --help`` lists them).
        from fastbp.benchmarking.compare import main as bench

        return bench(argv[1:])
    args = parser.parse_args(argv)
    return _train_xor(args)


def _train_xor(args):
    if args.epochs < 1 or args.report_every < 1:
        print("fastbp train: --epochs and --report-every must be at least 1", file=sys.stderr)
        return 2
    net = Network([3, 4, 1], activations="sigmoid", bias=False, init="uniform", seed=args.seed)
    trainer = Trainer(
        net, learning_rate=args.learning_rate, batch_size=None, reduction="sum", shuffle=False
    )
    print(f"{net}\ntraining on the XOR data of 'A Neural Network in 11 lines of Python'")
    started = time.perf_counter()
    history = trainer.fit(XOR_INPUTS, XOR_TARGETS, epochs=args.epochs, metrics=["mae"])
    elapsed = time.perf_counter() - started
    for epoch in range(0, args.epochs, args.report_every):
        print(f"epoch {epoch:>7}  mean absolute error {history['mae'][epoch]:.12g}")
    print(f"{args.epochs} epochs in {elapsed:.3f} s (including compilation on a first run)")
    print("predictions:")
    for inputs, target, output in zip(
        XOR_INPUTS, XOR_TARGETS, net.predict(XOR_INPUTS)[:, 0], strict=True
    ):
        print(f"  {inputs.astype(int)} -> {output:.8f}  (target {target:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
