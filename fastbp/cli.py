"""The ``fastbp`` command: train, predict, evaluate, info, export, compile and bench.

``fastbp train`` with no arguments trains the 3-layer XOR network of "A Neural Network in 11
lines of Python" on its built-in data, printing the tutorial's error trace and the final
predictions. Every subcommand has ``--help``.
"""

import argparse
import os
import sys
import textwrap
import time
import warnings

import numpy as np

import fastbp
from fastbp import _compile_notice, data, datasets, optimizers
from fastbp._names import ACTIVATIONS, INITS, LOSSES, METRICS
from fastbp._settings import SETTINGS as TRAINER_SETTINGS
from fastbp.errors import DivergenceError, FitWarning, ModelFileError
from fastbp.evaluation import evaluate
from fastbp.network import Network
from fastbp.onnx_export import DEFAULT_OPSET, MIN_OPSET, is_classifier
from fastbp.scaling import Standardization, fold_target_scaling
from fastbp.trainer import Trainer
from fastbp.weighting import validation_split

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
    # Columns and regression targets far from unit scale (prices, counts) drive a relu
    # network at this rate to divergence or to one output for every row: both are scaled.
    "standardize": True,
    "standardize_targets": True,
}
# The fraction of the examples held out to score a fit, unless the recipe or
# --validation-fraction says otherwise (the tutorials' recipes hold out none).
VALIDATION_FRACTION = 0.2
# Fewer examples than this are not split by default: a score on one or two held-out examples
# tells nothing, and training on the rest gives a worse network.
MIN_EXAMPLES_TO_HOLD_OUT = 10
# A numeric target of at most this many distinct integers may be class labels in disguise:
# the command says how to train a classifier on it.
FEW_INTEGERS = 10
# ``fastbp info`` (unless --full) shows a list of more than SUMMARY_LIMIT values as its first
# SHOWN_VALUES and a count.
SUMMARY_LIMIT = 12
SHOWN_VALUES = 6
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
    "standardize_targets",
    "validation_fraction",
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

    _add_train(commands)
    _add_model_commands(commands)
    _add_compile(commands)
    commands.add_parser(
        "bench",
        help="time fastbp beside the NumPy reference and the installed peers on W1-W4",
        add_help=False,
    )
    return parser


def _add_train(commands):
    """The ``train`` subcommand and its options."""
    train = commands.add_parser(
        "train",
        help="train a network on a CSV/.npz/.npy file or a built-in dataset (default: XOR)",
        description="Train a network and print its loss and predictions. With no data and no "
        "--dataset, trains the 11-line tutorial's 3-layer XOR network. Options not given take "
        "the dataset's recipe (for a file: a 16-unit relu layer, mini-batches of 32). A target "
        "column of text holds class labels: the network is then a classifier (one softmax "
        "output per class, cross-entropy loss). A numeric target is a regression target, even "
        "when it holds a few integers; --loss cross_entropy reads it as class labels. A "
        f"fraction ({VALIDATION_FRACTION:g}) of a file's or a scikit-learn dataset's examples "
        "is held out, drawn from the seed, and scored beside the training data; the tutorials' "
        "datasets hold out none.",
    )
    train.set_defaults(run=_train)
    source = train.add_mutually_exclusive_group()
    source.add_argument("data", nargs="?", help="a CSV file with a header row, .npz or .npy")
    source.add_argument("--dataset", choices=list(datasets.LOADERS), help="a built-in dataset")
    train.add_argument(
        "--target",
        help="target column(s) of DATA, comma-separated; a column of text is class labels",
    )
    train.add_argument("--features", help="input columns of DATA (default: all but targets)")
    train.add_argument("--layers", help="hidden layer sizes, comma-separated, e.g. 16,8 ('' none)")
    train.add_argument("--activation", choices=[a for a in ACTIVATIONS if a != "softmax"])
    train.add_argument("--output-activation", choices=list(ACTIVATIONS))
    train.add_argument(
        "--loss",
        choices=list(LOSSES),
        help="default: cross_entropy for class labels, else squared_error; cross_entropy "
        "reads a numeric target column as class labels (with --output-activation sigmoid: as "
        "0/1 targets of one output)",
    )
    train.add_argument("--epochs", type=int)
    train.add_argument(
        "--batch-size", type=_batch_size, default=UNSET, help="examples per update, or 'full'"
    )
    train.add_argument("--init", choices=list(INITS))
    train.add_argument("--bias", action=argparse.BooleanOptionalAction)
    train.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    features = train.add_argument_group("training settings and features")
    for setting in TRAINER_SETTINGS:
        # The Trainer's settings, from its table; the dataset's recipe sets the rest.
        if setting.cli is not None:
            features.add_argument(setting.flag, **setting.cli)
    features.add_argument("--optimizer", choices=list(optimizers.NAMES), default="sgd")
    features.add_argument("--momentum", type=float, default=0.0, help="for --optimizer sgd")
    features.add_argument("--nesterov", action="store_true", help="Nesterov's momentum")
    features.add_argument("--batch-norm", action="store_true", help="on hidden layers")
    features.add_argument(
        "--validation-fraction",
        type=_fraction,
        help=f"held out, drawn from the seed, scored every epoch (default {VALIDATION_FRACTION:g}"
        f" of {MIN_EXAMPLES_TO_HOLD_OUT} examples or more; the tutorials' datasets: 0); 0 trains "
        "on all",
    )
    features.add_argument("--patience", type=int, help="early stopping on the validation loss")
    train.add_argument(
        "--standardize",
        action=argparse.BooleanOptionalAction,
        help="scale inputs to mean 0, deviation 1; saved with the model and applied by predict "
        "(default: on for files and scikit-learn's datasets, off for the tutorials')",
    )
    train.add_argument(
        "--standardize-targets",
        action=argparse.BooleanOptionalAction,
        help="train a regression on its targets scaled to mean 0, deviation 1, then rescale the "
        "identity output layer so the model predicts in the targets' own units (default: on for "
        "files and scikit-learn's datasets, off for the tutorials')",
    )
    train.add_argument("--metrics", help=f"comma-separated, of {', '.join(METRICS)}")
    train.add_argument("--report-every", type=int, help="epochs between printed losses")
    train.add_argument("--save", metavar="MODEL.npz", help="write the trained network here")
    train.add_argument(
        "--plot", metavar="PATH.png", help="write the loss curves (training, held out) here"
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar, no epoch lines")


def _add_compile(commands):
    """The ``compile`` subcommand."""
    compile_ = commands.add_parser(
        "compile",
        help="compile the kernels of the common kinds of fit ahead, into Numba's cache",
        description="Compile the kernels of the common kinds of fit (the estimators' solvers, "
        "Trainer's batch sizes, float32 and float64, the tutorials' networks) into Numba's "
        "cache, in worker processes, so that later fits in any process sharing the cache start "
        "at once: after installing, in a container image's build, before a Dask or joblib "
        "search. NUMBA_CACHE_DIR chooses the cache.",
    )
    compile_.set_defaults(run=_compile)
    compile_.add_argument(
        "cases", nargs="*", metavar="CASE", help="kinds of fit to compile (default: all)"
    )
    compile_.add_argument("--list", action="store_true", help="list the kinds; compile nothing")
    compile_.add_argument(
        "--workers", type=int, help="worker processes (default: one per CPU this process may use)"
    )


def _compile(args):
    from fastbp import precompile

    if args.list:
        width = max(map(len, precompile.CASES))
        for name, (what, _, _) in precompile.CASES.items():
            print(f"{name:<{width}}  {what}")
        return 0
    started = time.perf_counter()
    seconds = precompile.compile_kernels(args.cases or None, args.workers)
    print(
        f"compiled {len(seconds)} kinds of fit in {time.perf_counter() - started:.1f} s; later "
        "fits of these kinds load their kernels from the cache"
    )
    return 0


def _add_model_commands(commands):
    """The subcommands that take a saved model: predict, evaluate, info and export."""
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
    info.add_argument(
        "--full", action="store_true", help="every input name and scaling value, not a summary"
    )

    export = commands.add_parser(
        "export",
        help="write a saved network as an ONNX model",
        description="Write a saved network as an ONNX model (input X; outputs 'outputs', and "
        "'probabilities' for a classifier), with its input scaling. Needs the onnx extra: "
        'pip install ".[onnx]" in a clone of fastbp.',
    )
    export.set_defaults(run=_export)
    export.add_argument("model", help="a model saved by fastbp train --save or Network.save")
    export.add_argument("onnx", metavar="MODEL.onnx", help="the ONNX file to write")
    export.add_argument(
        "--opset", type=int, help=f"the ONNX opset, {MIN_OPSET} or later (default {DEFAULT_OPSET})"
    )


def _batch_size(text):
    return None if text == "full" else int(text)


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a fraction in [0, 1); got {text!r}")
    return value


def _names(text):
    return [name.strip() for name in text.split(",") if name.strip()] if text else []


def _train(args):
    if args.quiet:
        _compile_notice.enable(False)
    dataset, note = _training_data(args)
    classes = list(dataset.target_names) if dataset.is_classification else None
    recipe = _recipe(args, dataset, classes)
    X, y, held_out, held_out_note = _held_out(args, recipe, dataset)
    net = _network(args, recipe, dataset, classes, X)
    trainer = _trainer(args, recipe, net)
    if note:
        print(note)
    print(f"{net}\ntraining on {dataset.description} ({X.shape[0]} examples)")
    if held_out_note:
        print(held_out_note)
    target_scaling = _target_scaling(args, recipe, net, y)
    if target_scaling is not None:
        print(_target_scaling_note(target_scaling))
    started = time.perf_counter()
    history = _fit(args, recipe, trainer, X, y, held_out, target_scaling)
    elapsed = time.perf_counter() - started
    if not args.quiet:
        _print_trace(history, args.report_every or max(1, recipe["epochs"] // 6))
    print(f"{history.epochs} epochs in {elapsed:.3f} s (the first run includes compilation)")
    for sentence in history.warnings:
        print(f"fastbp train: warning: {sentence}", file=sys.stderr)
    if history.best_epoch is not None:
        monitored = "held-out" if held_out else "training"
        print(f"kept the weights of epoch {history.best_epoch}, the best {monitored} loss")
    _print_results(net, dataset, classes, recipe["loss"], (X, y), held_out)
    if args.save:
        net.save(args.save)
        print(f"saved the network to {args.save}")
    if args.plot:
        figure = history.plot(args.plot)
        curves = [line.get_label() for axes in figure.axes for line in axes.get_lines()]
        print(f"plotted {', '.join(curves)} per epoch to {args.plot}")
    return 0


def _fit(args, recipe, trainer, X, y, held_out, target_scaling):
    """The recipe's fit, on the targets scaled by ``target_scaling`` when there is one (then
    folded into the output layer and recorded); its ``FitWarning`` sentences are left in the
    history for the caller to print."""
    if target_scaling is not None:
        y = target_scaling.apply(y, y.dtype)
        if held_out:
            held_out = (held_out[0], target_scaling.apply(held_out[1], held_out[1].dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        history = trainer.fit(
            X,
            y,
            recipe["epochs"],
            recipe["metrics"],
            progress=False if args.quiet else None,
            validation_data=held_out,
            patience=args.patience,
        )
    if target_scaling is not None:
        fold_target_scaling(trainer.network, target_scaling)
        trainer.network.metadata["target_scaling"] = {
            "mean": target_scaling.mean.tolist(),
            "scale": target_scaling.scale.tolist(),
        }
    return history


def _target_scaling(args, recipe, net, y):
    """The ``Standardization`` of the regression targets ``y`` that the fit trains on, or
    None: where the recipe or ``--standardize-targets`` asks for it and the output layer is
    identity (whose weights take it back after the fit; others have a range of their own).
    Without an output bias to add the means back, the targets are only scaled, by their root
    mean square."""
    if not recipe.get("standardize_targets") or net.metadata.get("classes"):
        return None
    if net.activations[-1] != "identity":
        if args.standardize_targets:
            raise ValueError(
                "--standardize-targets needs an identity output layer, whose weights take the "
                f"scaling back after the fit; got --output-activation {net.activations[-1]}"
            )
        return None
    if net.biases[-1] is None:
        root_mean_square = np.sqrt(np.mean(np.square(y), axis=0))
        return Standardization(
            np.zeros(y.shape[1]), np.where(root_mean_square > 0, root_mean_square, 1.0)
        )
    return Standardization.of(y)


def _target_scaling_note(scaling):
    return (
        f"standardized the targets (mean {_summary((f'{v:.6g}' for v in scaling.mean), False)}, "
        f"scale {_summary((f'{v:.6g}' for v in scaling.scale), False)}): the epochs' losses are "
        "in those units; the model predicts, and the scores below are, in the targets' own "
        "(--no-standardize-targets trains on them as they are)"
    )


def _recipe(args, dataset, classes):
    """The fit's settings: the dataset's recipe (a file's: CSV_RECIPE), with the options given."""
    recipe = dict(CSV_RECIPE) if args.data else dict(dataset.recipe)
    if args.data and classes:
        recipe["metrics"] = ["accuracy"]
    for key in RECIPE_OPTIONS:
        if getattr(args, key) is not None:
            recipe[key] = getattr(args, key)
    if args.batch_size is not UNSET:
        recipe["batch_size"] = args.batch_size
    if args.layers is not None:
        recipe["layers"] = [int(size) for size in _names(args.layers)]
    if args.metrics is not None:
        recipe["metrics"] = _names(args.metrics)
    recipe.setdefault("loss", "cross_entropy" if classes else "squared_error")
    recipe.setdefault("output_activation", "softmax" if classes else "identity")
    recipe.setdefault("validation_fraction", VALIDATION_FRACTION)
    return recipe


def _held_out(args, recipe, dataset):
    """``(X, y, held_out, note)``: the examples to train on, the pair ``(X_val, y_val)`` held
    out to score the fit (None for none), and a line saying what was held out, or None."""
    X, y = dataset.X, dataset.y
    fraction, seed, n_examples = recipe["validation_fraction"], recipe["seed"], X.shape[0]
    if fraction == 0:
        return X, y, None, None
    if args.validation_fraction is None and n_examples < MIN_EXAMPLES_TO_HOLD_OUT:
        return (
            X,
            y,
            None,
            (
                f"no held-out score: {n_examples} examples are too few to hold some out by "
                f"default (--validation-fraction {fraction:g} holds them out anyway)"
            ),
        )
    X, y, _, X_val, y_val = validation_split(X, y, None, fraction, seed)
    note = (
        f"held out {X_val.shape[0]} of the {n_examples} examples to score the fit (fraction "
        f"{fraction:g}, seed {seed}; --validation-fraction 0 trains on all)"
    )
    return X, y, (X_val, y_val), note


def _network(args, recipe, dataset, classes, X):
    """The untrained network of the recipe; its input scaling (if any) is that of ``X``, the
    examples it trains on."""
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
        net.scaling = Standardization.of(X)
    net.metadata.update(
        source=dataset.name,
        feature_names=list(dataset.feature_names),
        target_names=list(dataset.target_names),
        classes=classes,
    )
    return net


def _trainer(args, recipe, net):
    """The Trainer of the recipe (whose entries the options given have replaced), with the
    Trainer's other settings from their options, or their defaults."""
    settings = {}
    for setting in TRAINER_SETTINGS:
        if setting.name in recipe:
            settings[setting.name] = recipe[setting.name]
        elif setting.cli is not None and getattr(args, setting.name) is not None:
            settings[setting.name] = getattr(args, setting.name)
    if args.optimizer == "sgd":
        settings["optimizer"] = optimizers.SGD(args.momentum, args.nesterov)
    else:
        settings["optimizer"] = args.optimizer
    return Trainer(net, **settings)


def _training_data(args):
    """The built-in dataset asked for, or DATA's columns as a Dataset; and a line saying how
    the target was read, or None."""
    if not args.data:
        if args.target or args.features:
            raise ValueError("--target and --features select columns of a DATA file")
        return datasets.load(args.dataset or "xor"), None
    table = data.read(args.data)
    targets = _names(args.target)
    if not targets:
        raise ValueError(f"--target must name the target column(s) of {args.data}: {table.names}")
    features = _names(args.features) or [n for n in table.names if n not in targets]
    if not features:
        raise ValueError(f"{args.data} has no input columns besides the targets {targets}")
    X = table.numeric(features)
    asked = args.loss == "cross_entropy" and args.output_activation != "sigmoid"
    text = None if asked else _text_target(table, targets, args)
    if asked or text:
        if len(targets) != 1:
            raise ValueError("with --loss cross_entropy, --target names one column of classes")
        y, classes = table.labels(targets[0])
        if len(classes) < 2:
            raise ValueError(f"column {targets[0]!r} holds one class only: {classes}")
        names = tuple(classes)
        note = text and (
            f"target {text!r} holds text, so it is class labels: training a classifier of its "
            f"{len(classes)} classes ({_summary(classes, False)}) with softmax outputs and "
            "cross-entropy loss"
        )
    else:
        y, names = table.numeric(targets), tuple(targets)
        note = None if args.loss else _few_integers_note(targets, y)
    return datasets.Dataset(args.data, X, y, tuple(features), names, args.data), note


def _text_target(table, targets, args):
    """The target column holding text (class labels), None when all are numeric; an error
    for text where it cannot be class labels."""
    for name in targets:
        rows = table.text_rows(name)
        if rows.size == 0:
            continue
        cell = str(table.columns[name][rows[0]])
        first = f"row {rows[0] + 1} (line {rows[0] + 2}) holds {cell!r}"
        if rows.size < table.n_rows:
            raise ValueError(
                f"{table.path}: target column {name!r} mixes numbers and text ({first}): "
                "fix that cell, or pass --loss cross_entropy to read every cell as a class label"
            )
        if len(targets) > 1:
            raise ValueError(
                f"{table.path}: target column {name!r} holds text, so it is class labels: "
                f"train a classifier on it alone (--target {name})"
            )
        if args.loss == "squared_error":
            raise ValueError(
                f"{table.path}: target column {name!r} holds text ({first}), class labels, "
                "which train with --loss cross_entropy; --loss squared_error needs numbers"
            )
        if args.output_activation not in (None, "softmax"):
            raise ValueError(
                f"{table.path}: target column {name!r} holds text, class labels, which train "
                f"one softmax output per class; --output-activation {args.output_activation} "
                "needs a numeric target (0/1 for sigmoid)"
            )
        return name
    return None


def _few_integers_note(targets, y):
    """A line saying how to train a classifier, when the one target holds a few integers."""
    values = np.unique(y)
    if len(targets) != 1 or not 2 <= values.size <= FEW_INTEGERS or values.size >= y.shape[0]:
        return None
    if not np.all(values == np.round(values)):
        return None
    shown = ", ".join(f"{v:g}" for v in values)
    return (
        f"target {targets[0]!r} holds {values.size} distinct integers ({shown}): training a "
        "regression on them; --loss cross_entropy reads them as class labels"
    )


def _print_trace(history, every):
    lines = list(range(0, history.epochs, every))
    if history.epochs and lines[-1] != history.epochs - 1:
        lines.append(history.epochs - 1)
    width = len(str(history.epochs))
    for epoch in lines:
        values = "  ".join(f"{name} {history[name][epoch]:.12g}" for name in history)
        print(f"epoch {epoch:>{width}}  {values}")


def _print_results(net, dataset, classes, loss, training, held_out):
    if dataset.X.shape[0] <= 10:
        print("predictions:")
        for inputs, target, output in zip(
            dataset.X, dataset.y, net.predict(dataset.X), strict=True
        ):
            shown = " ".join(f"{v:g}" for v in inputs)
            wanted = " ".join(f"{v:g}" for v in np.atleast_1d(target))
            got = " ".join(f"{v:.8f}" for v in output)
            print(f"  [{shown}] -> {got}  (target {wanted})")
    else:
        _print_scores(net, "the training data", training, classes, loss)
    if held_out:
        _print_scores(net, "the held-out data", held_out, classes, loss)


def _print_scores(net, name, examples, classes, loss):
    scores = evaluate(net, *examples, loss)
    shown = ["loss", "accuracy"] if classes else ["loss", "mse", "mae"]
    values = ", ".join(f"{k} {scores[k]:.6g}" for k in shown)
    print(f"on {name} ({examples[0].shape[0]} examples): {values}")


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
    _say(f"{args.model}: {net}")
    _say(f"parameters: {net.params.size} ({net.dtype.name})")
    lists = [(name, meta.get(key)) for name, key in _INFO_LISTS if meta.get(key)]
    for name, values in lists:
        _say(f"{name}: {_summary(map(str, values), args.full)}")
    if net.scaling is not None:
        _say(f"input scaling: {_scaling_text(net.scaling, args.full)}")
    if meta.get("target_scaling"):
        scaling = Standardization(meta["target_scaling"]["mean"], meta["target_scaling"]["scale"])
        _say(
            f"target scaling: {_scaling_text(scaling, args.full, 'targets')} (trained on "
            "scaled targets; the output layer was rescaled, so the model predicts in their units)"
        )
    if meta.get("source"):
        _say(f"trained on: {meta['source']}")
    for number, fit in enumerate(meta.get("fits", []), start=1):
        settings = ", ".join(f"{k}={v}" for k, v in fit.items())
        _say(f"fit {number}: {settings}")
    longest = max([len(values) for _, values in lists] + [net.n_inputs * (net.scaling is not None)])
    if not args.full and longest > SUMMARY_LIMIT:
        _say(f"(lists of more than {SUMMARY_LIMIT} values are summarised; --full prints them all)")
    return 0


# ``fastbp info`` wraps each line at 100 characters, between words (a fit's record, a
# network's description), never inside a name or a number; continued 4 spaces in.
_INFO_LINES = textwrap.TextWrapper(
    100, subsequent_indent="    ", break_long_words=False, break_on_hyphens=False
)


def _say(text):
    print(_INFO_LINES.fill(text))


_INFO_LISTS = (("inputs", "feature_names"), ("outputs", "target_names"), ("classes", "classes"))


def _summary(texts, full):
    """``texts`` comma-separated; unless ``full``, only the first few of a long list and its
    length."""
    texts = list(texts)
    if full or len(texts) <= SUMMARY_LIMIT:
        return ", ".join(texts)
    return ", ".join(texts[:SHOWN_VALUES]) + f", ... ({len(texts)} in all)"


def _scaling_text(scaling, full, of="inputs"):
    """A scaling of ``of``, summarised to 6 digits unless ``full`` (then every value exactly)."""
    if full:
        return repr(scaling)
    parts = (
        f"{name} [{_summary((f'{v:.6g}' for v in values), False)}]"
        for name, values in (("mean", scaling.mean), ("scale", scaling.scale))
    )
    return f"{type(scaling).__name__} of {scaling.n_inputs} {of}, " + ", ".join(parts)


def _export(args):
    net = fastbp.load(args.model)
    opset = DEFAULT_OPSET if args.opset is None else args.opset
    net.to_onnx(args.onnx, opset=opset)
    classes = f", probabilities (N, {max(2, net.n_outputs)})" if is_classifier(net) else ""
    print(
        f"wrote {args.onnx} (ONNX opset {opset}): X (N, {net.n_inputs}) {net.dtype.name} -> "
        f"outputs (N, {net.n_outputs}){classes}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
