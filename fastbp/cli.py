"""The ``fastbp`` command: train, predict, evaluate, info and bench.

``fastbp train`` with no arguments trains the 3-layer XOR network of "A Neural Network in 11
lines of Python" on its built-in data, printing the tutorial's error trace and the final
predictions. Every subcommand has ``--help``.
"""

import argparse
import os
import sys
import time

import numpy as np

import fastbp
from fastbp import data, datasets, optimizers, schedules
from fastbp._names import ACTIVATIONS, INITS, LOSSES, METRICS, REDUCTIONS
from fastbp.errors import DivergenceError, ModelFileError
from fastbp.evaluation import evaluate
from fastbp.network import Network
from fastbp.scaling import Standardization
from fastbp.trainer import Trainer

# Settings of a fit on a CSV file, where no built-in dataset's recipe applies.
CSV_RECIPE = {
    "layers": [16],
    "activation": "relu",
    "learning_rate": 0.01,
    "batch_size": 32,
    "reduction": "mean",
    "shuffle": True,
    "init": "glorot",
    "bias": True,
    "seed": 0,
    "epochs": 100,
    "metrics": ["mae"],
}
# Options that replace the recipe's setting of the same name when given.
RECIPE_OPTIONS = (
    "activation",
    "output_activation",
    "loss",
    "epochs",
    "learning_rate",
    "reduction",
    "shuffle",
    "seed",
    "init",
    "bias",
    "kernel",
    "standardize",
)
UNSET = object()  # an option not given, where None is a value (--batch-size full)
_USAGE_ERRORS = (ValueError, TypeError, ImportError, OSError, ModelFileError)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        # The comparison parses its own options (``fastbp bench --help`` lists them).
        from fastbp.benchmarking.compare import main as bench

        return bench(argv[1:])
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except DivergenceError as error:
        print(f"fastbp {args.command}: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader (``| head``) stopped early: not an error; keep Python from reporting one
        # when it flushes standard output at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except _USAGE_ERRORS as error:
        print(f"fastbp {args.command}: error: {error}", file=sys.stderr)
        return 2


def _parser():
    parser = argparse.ArgumentParser(prog="fastbp", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train a network on a CSV/.npz/.npy file or a built-in dataset (default: XOR)",
        description="Train a network and print its loss and predictions. With no data and no "
        "--dataset, trains the 11-line tutorial's 3-layer XOR network. Options not given take "
        "the dataset's recipe (for a file: a 16-unit relu layer, mini-batches of 32).",
    )
    train.set_defaults(run=_train)
    source = train.add_mutually_exclusive_group()
    source.add_argument("data", nargs="?", help="a CSV file with a header row, .npz or .npy")
    source.add_argument("--dataset", choices=list(datasets.LOADERS), help="a built-in dataset")
    train.add_argument("--target", help="target column(s) of DATA, comma-separated")
    train.add_argument("--features", help="input columns of DATA (default: all but targets)")
    train.add_argument("--layers", help="hidden layer sizes, comma-separated, e.g. 16,8 ('' none)")
    train.add_argument("--activation", choices=[a for a in ACTIVATIONS if a != "softmax"])
    train.add_argument("--output-activation", choices=list(ACTIVATIONS))
    train.add_argument("--loss", choices=list(LOSSES))
    train.add_argument("--epochs", type=int)
    train.add_argument(
        "--batch-size", type=_batch_size, default=UNSET, help="examples per update, or 'full'"
    )
    train.add_argument("--learning-rate", type=float)
    train.add_argument("--reduction", choices=list(REDUCTIONS))
    train.add_argument("--shuffle", action=argparse.BooleanOptionalAction)
    train.add_argument("--seed", type=int, help="seed of the weights and the shuffling")
    train.add_argument("--init", choices=list(INITS))
    train.add_argument("--bias", action=argparse.BooleanOptionalAction)
    train.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    train.add_argument("--kernel", choices=["auto", "unrolled", "matrix", "generic"])
    features = train.add_argument_group("training features")
    features.add_argument("--optimizer", choices=list(optimizers.NAMES), default="sgd")
    features.add_argument("--momentum", type=float, default=0.0, help="for --optimizer sgd")
    features.add_argument("--nesterov", action="store_true", help="Nesterov's momentum")
    features.add_argument("--schedule", choices=list(schedules.NAMES), default="constant")
    features.add_argument("--l2", type=float, default=0.0, help="L2 weight decay")
    features.add_argument("--dropout", type=float, default=0.0, help="on hidden layers")
    features.add_argument("--clip-value", type=float, help="clip every delta to +-this")
    features.add_argument("--clip-norm", type=float, help="clip each gradient to this norm")
    features.add_argument("--batch-norm", action="store_true", help="on hidden layers")
    features.add_argument("--validation-fraction", type=float, help="held out, scored per epoch")
    features.add_argument("--patience", type=int, help="early stopping on the validation loss")
    train.add_argument(
        "--standardize",
        action=argparse.BooleanOptionalAction,
        help="scale inputs to mean 0, deviation 1; saved with the model and applied by predict",
    )
    train.add_argument("--metrics", help=f"comma-separated, of {', '.join(METRICS)}")
    train.add_argument("--report-every", type=int, help="epochs between printed losses")
    train.add_argument("--save", metavar="MODEL.npz", help="write the trained network here")
    train.add_argument("--plot", metavar="PATH.png", help="write the loss curve here")
    train.add_argument("--quiet", action="store_true", help="no progress bar, no epoch lines")

    predict = commands.add_parser(
        "predict", help="a saved network's outputs for each row of a file"
    )
    predict.set_defaults(run=_predict)
    predict.add_argument("model", help="a model saved by fastbp train --save or Network.save")
    predict.add_argument("data", help="CSV/.npz/.npy with the model's input columns")
    predict.add_argument("-o", "--output", help="CSV to write (default: standard output)")

    evaluate_ = commands.add_parser("evaluate", help="a saved network's loss and metrics on data")
    evaluate_.set_defaults(run=_evaluate)
    evaluate_.add_argument("model")
    evaluate_.add_argument("data")
    evaluate_.add_argument("--target", help="target column(s) (default: the model's)")
    evaluate_.add_argument("--loss", choices=list(LOSSES), help="default: the training loss")

    info = commands.add_parser("info", help="a saved network's architecture and training")
    info.set_defaults(run=_info)
    info.add_argument("model")

    commands.add_parser(
        "bench",
        help="time fastbp beside the NumPy reference and the installed peers on W1-W4",
        add_help=False,
    )
    return parser


def _batch_size(text):
    return None if text == "full" else int(text)


def _names(text):
    return [name.strip() for name in text.split(",") if name.strip()] if text else []


def _train(args):
    dataset = _training_data(args)
    recipe = dict(CSV_RECIPE) if args.data else dict(dataset.recipe)
    for key in RECIPE_OPTIONS:
        if getattr(args, key) is not None:
            recipe[key] = getattr(args, key)
    if args.batch_size is not UNSET:
        recipe["batch_size"] = args.batch_size
    if args.layers is not None:
        recipe["layers"] = [int(size) for size in _names(args.layers)]
    if args.metrics is not None:
        recipe["metrics"] = _names(args.metrics)
    classes = list(dataset.target_names) if dataset.is_classification else None
    recipe.setdefault("loss", "cross_entropy" if classes else "squared_error")
    recipe.setdefault("output_activation", "softmax" if classes else "identity")
    epochs = recipe["epochs"]

    n_outputs = len(classes) if classes else dataset.y.shape[1]
    net = Network(
        [dataset.X.shape[1], *recipe["layers"], n_outputs],
        activations=[recipe["activation"]] * len(recipe["layers"]) + [recipe["output_activation"]],
        bias=recipe.get("bias", True),
        init=recipe.get("init", "glorot"),
        seed=recipe["seed"],
        dtype=np.dtype(args.dtype),
        batch_norm=args.batch_norm,
    )
    if recipe.get("standardize"):
        net.scaling = Standardization.of(dataset.X)
    net.metadata.update(
        source=dataset.name,
        feature_names=list(dataset.feature_names),
        target_names=list(dataset.target_names),
        classes=classes,
    )
    trainer = Trainer(
        net,
        learning_rate=recipe["learning_rate"],
        batch_size=recipe["batch_size"],
        reduction=recipe["reduction"],
        loss=recipe["loss"],
        shuffle=recipe["shuffle"],
        seed=recipe["seed"],
        optimizer=(
            optimizers.SGD(args.momentum, args.nesterov)
            if args.optimizer == "sgd"
            else args.optimizer
        ),
        schedule=args.schedule,
        l2=args.l2,
        dropout=args.dropout,
        clip_value=args.clip_value,
        clip_norm=args.clip_norm,
        kernel=recipe.get("kernel", "auto"),
    )
    print(f"{net}\ntraining on {dataset.description} ({dataset.X.shape[0]} examples)")
    started = time.perf_counter()
    history = trainer.fit(
        dataset.X,
        dataset.y,
        epochs,
        recipe["metrics"],
        progress=False if args.quiet else None,
        validation_fraction=args.validation_fraction,
        patience=args.patience,
    )
    elapsed = time.perf_counter() - started
    if not args.quiet:
        _print_trace(history, args.report_every or max(1, epochs // 6))
    print(f"{history.epochs} epochs in {elapsed:.3f} s (the first run includes compilation)")
    _print_results(net, dataset, classes, recipe["loss"])
    if args.save:
        net.save(args.save)
        print(f"saved the network to {args.save}")
    if args.plot:
        history.plot(args.plot)
        print(f"plotted the loss to {args.plot}")
    return 0


def _training_data(args):
    """The built-in dataset asked for, or DATA's columns as a Dataset."""
    if not args.data:
        if args.target or args.features:
            raise ValueError("--target and --features select columns of a DATA file")
        return datasets.load(args.dataset or "xor")
    table = data.read(args.data)
    targets = _names(args.target)
    if not targets:
        raise ValueError(f"--target must name the target column(s) of {args.data}: {table.names}")
    features = _names(args.features) or [n for n in table.names if n not in targets]
    if not features:
        raise ValueError(f"{args.data} has no input columns besides the targets {targets}")
    X = table.numeric(features)
    if args.loss == "cross_entropy" and args.output_activation != "sigmoid":
        if len(targets) != 1:
            raise ValueError("with --loss cross_entropy, --target names one column of classes")
        y, classes = table.labels(targets[0])
        if len(classes) < 2:
            raise ValueError(f"column {targets[0]!r} holds one class only: {classes}")
        names = tuple(classes)
    else:
        y, names = table.numeric(targets), tuple(targets)
    return datasets.Dataset(args.data, X, y, tuple(features), names, args.data)


def _print_trace(history, every):
    name = next((n for n in history if n != "loss"), "loss")
    lines = list(range(0, history.epochs, every))
    if history.epochs and lines[-1] != history.epochs - 1:
        lines.append(history.epochs - 1)
    width = len(str(history.epochs))
    for epoch in lines:
        extra = f"  {name} {history[name][epoch]:.12g}" if name != "loss" else ""
        print(f"epoch {epoch:>{width}}  loss {history['loss'][epoch]:.12g}{extra}")


def _print_results(net, dataset, classes, loss):
    if dataset.X.shape[0] <= 10:
        print("predictions:")
        for inputs, target, output in zip(
            dataset.X, dataset.y, net.predict(dataset.X), strict=True
        ):
            shown = " ".join(f"{v:g}" for v in inputs)
            wanted = " ".join(f"{v:g}" for v in np.atleast_1d(target))
            got = " ".join(f"{v:.8f}" for v in output)
            print(f"  [{shown}] -> {got}  (target {wanted})")
        return
    scores = evaluate(net, dataset.X, dataset.y, loss)
    shown = ["loss", "accuracy"] if classes else ["loss", "mse", "mae"]
    print("on the training data: " + ", ".join(f"{k} {scores[k]:.6g}" for k in shown))


def _model_inputs(net, table):
    """The model's input columns of ``table``, by the names it was trained with, else all."""
    names = net.metadata.get("feature_names") or []
    if names and all(name in table.columns for name in names):
        return table.numeric(names)
    if len(table.names) == net.n_inputs:
        return table.numeric(table.names)
    raise ValueError(
        f"{table.path} has columns {table.names}; the model needs {net.n_inputs} inputs"
        + (f" named {names}" if names else "")
    )


def _predict(args):
    net = fastbp.load(args.model)
    outputs = net.predict(_model_inputs(net, data.read(args.data)))
    classes = net.metadata.get("classes")
    if classes:
        names = ["predicted"] + [f"p_{c}" for c in classes]
        rows = ([classes[int(np.argmax(o))], *map(float, o)] for o in outputs)
    else:
        names = net.metadata.get("target_names") or [f"output{j}" for j in range(net.n_outputs)]
        rows = (list(map(float, o)) for o in outputs)
    if args.output:
        with open(args.output, "w", newline="", encoding="utf-8") as file:
            data.write_csv(file, names, rows)
    else:
        data.write_csv(sys.stdout, names, rows)
    return 0


def _evaluate(args):
    net = fastbp.load(args.model)
    table = data.read(args.data)
    X = _model_inputs(net, table)
    fits = net.metadata.get("fits") or [{}]
    loss = args.loss or fits[-1].get("loss", "squared_error")
    classes = net.metadata.get("classes")
    targets = _names(args.target) or net.metadata.get("target_names") or []
    if classes:
        column = targets[0] if args.target else _class_column(net, table)
        y, _ = table.labels(column, classes)
    else:
        y = table.numeric(targets)
    scores = evaluate(net, X, y, loss)
    shown = ["loss", "accuracy"] if classes else ["loss", "sse", "mse", "mae"]
    for name in shown:
        print(f"{name:<9}{scores[name]:.12g}")
    return 0


def _class_column(net, table):
    others = [n for n in table.names if n not in (net.metadata.get("feature_names") or [])]
    if len(others) != 1:
        raise ValueError(f"--target must name the class column of {table.path}: {table.names}")
    return others[0]


def _info(args):
    net = fastbp.load(args.model)
    meta = net.metadata
    print(f"{args.model}: {net}")
    print(f"parameters: {net.params.size} ({net.dtype.name})")
    for name, key in (("inputs", "feature_names"), ("outputs", "target_names")):
        if meta.get(key):
            print(f"{name}: {', '.join(map(str, meta[key]))}")
    if meta.get("classes"):
        print(f"classes: {', '.join(map(str, meta['classes']))}")
    if net.scaling is not None:
        print(f"input scaling: {net.scaling}")
    if meta.get("source"):
        print(f"trained on: {meta['source']}")
    for number, fit in enumerate(meta.get("fits", []), start=1):
        settings = ", ".join(f"{k}={v}" for k, v in fit.items())
        print(f"fit {number}: {settings}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
