"""Built-in datasets: every data set of the seed tutorials, and real ones from scikit-learn.

Each loader returns a ``Dataset``: inputs, targets, names, and a ``recipe`` of the settings
that train it well (the tutorial's own settings for the tutorial data), which ``fastbp train
--dataset NAME`` uses. Nothing is downloaded: the tutorial data is written out here, and
``iris``, ``digits`` and ``diabetes`` are the copies bundled with scikit-learn (the optional
``datasets`` extra: ``pip install ".[datasets]"`` in a clone of fastbp).
"""

from dataclasses import dataclass, field

import numpy as np

XOR_INPUTS = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64)


@dataclass(frozen=True)
class Dataset:
    """A data set and how to train on it.

    Attributes
    ----------
    name : str
    X : ndarray of shape (n_samples, n_inputs), float64
    y : ndarray of shape (n_samples, n_outputs), float64; or (n_samples,) int class labels
    feature_names, target_names : tuple of str
        Column names of ``X``, and of ``y`` (for class labels: the class names).
    description : str
        Where the data comes from, in one line.
    recipe : dict
        Network and Trainer settings, and ``epochs``, ``metrics`` and (when not the
        command's default) ``validation_fraction``, for ``fastbp train``.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    feature_names: tuple
    target_names: tuple
    description: str
    recipe: dict = field(default_factory=dict)

    @property
    def is_classification(self):
        """Whether ``y`` holds integer class labels."""
        return np.issubdtype(self.y.dtype, np.integer)


def _tutorial_recipe(**settings):
    # The tutorials train on every one of their few examples: holding some out would change
    # the traces they print.
    recipe = {"bias": False, "init": "uniform", "seed": 1, "shuffle": False, "reduction": "sum"}
    recipe["validation_fraction"] = 0.0
    recipe.update(settings)
    return recipe


def xor():
    """The 3-layer network's data of "A Neural Network in 11 lines of Python": XOR of the
    first two inputs (the third is a constant 1), trained 60,000 full-batch epochs."""
    return Dataset(
        "xor",
        XOR_INPUTS.copy(),
        np.array([[0.0], [1.0], [1.0], [0.0]]),
        ("x1", "x2", "one"),
        ("y",),
        '"A Neural Network in 11 lines of Python", 3-layer network (XOR)',
        _tutorial_recipe(
            layers=[4],
            activation="sigmoid",
            output_activation="sigmoid",
            learning_rate=1.0,
            batch_size=None,
            epochs=60000,
            metrics=["mae"],
        ),
    )


def first_column():
    """The 2-layer network's data of "A Neural Network in 11 lines of Python": the output
    copies the first input."""
    return Dataset(
        "first_column",
        XOR_INPUTS.copy(),
        np.array([[0.0], [0.0], [1.0], [1.0]]),
        ("x1", "x2", "one"),
        ("y",),
        '"A Neural Network in 11 lines of Python", 2-layer network',
        _tutorial_recipe(
            layers=[],
            activation="sigmoid",
            output_activation="sigmoid",
            learning_rate=1.0,
            batch_size=None,
            epochs=10000,
            metrics=["mae"],
        ),
    )


def streetlights():
    """Grokking Deep Learning's streetlights: walk (1) or stop (0) for four light patterns,
    learned by the 3-4-1 relu network with per-example SGD."""
    return Dataset(
        "streetlights",
        np.array([[1, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1]], dtype=np.float64),
        np.array([[1.0], [1.0], [0.0], [0.0]]),
        ("left", "middle", "right"),
        ("walk",),
        "Grokking Deep Learning, chapter 6: the streetlight problem, deep network",
        _tutorial_recipe(
            layers=[4],
            activation="relu",
            output_activation="identity",
            learning_rate=0.2,
            batch_size=1,
            epochs=60,
            metrics=["sse"],
        ),
    )


def streetlights_linear():
    """Grokking Deep Learning's six streetlight patterns, learned by one linear layer."""
    return Dataset(
        "streetlights_linear",
        np.array(
            [[1, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1], [0, 1, 1], [1, 0, 1]], dtype=np.float64
        ),
        np.array([[0.0], [1.0], [0.0], [1.0], [1.0], [0.0]]),
        ("left", "middle", "right"),
        ("walk",),
        "Grokking Deep Learning, chapter 6: the streetlight problem, one linear layer",
        _tutorial_recipe(
            layers=[],
            activation="identity",
            output_activation="identity",
            learning_rate=0.1,
            batch_size=1,
            epochs=40,
            metrics=["sse"],
        ),
    )


def test_scores():
    """ "How backpropagation works" (the Welch Labs example): test scores from hours of sleep
    and study, with the tutorial's scaling: each input column divided by its maximum, the
    scores by 100; trained full batch for the tutorial's 1,000 iterations."""
    X = np.array([[2.0, 9.0], [1.0, 5.0], [3.0, 6.0]])
    y = np.array([[92.0], [86.0], [89.0]])
    return Dataset(
        "test_scores",
        X / np.amax(X, axis=0),
        y / 100,
        ("sleep", "study"),
        ("score",),
        '"How backpropagation works" (Welch Labs): test score from sleep and study, scaled',
        _tutorial_recipe(
            layers=[3],
            activation="sigmoid",
            output_activation="sigmoid",
            init="normal",
            seed=0,
            learning_rate=1.0,
            batch_size=None,
            epochs=1000,
            metrics=["mae"],
        ),
    )


def lecture_notes():
    """The lecture notes' three points, targets ``x @ [2, -1, 5]``, for the 3-2-1 tanh
    network trained full batch."""
    X = np.array([[4.0, 9.0, 1.0], [2.0, 5.0, 6.0], [1.0, 8.0, 3.0]])
    return Dataset(
        "lecture_notes",
        X,
        (X @ np.array([2.0, -1.0, 5.0]))[:, None],
        ("x1", "x2", "x3"),
        ("t",),
        "Lecture notes on backpropagation: three points of a linear function",
        _tutorial_recipe(
            layers=[2],
            activation="tanh",
            output_activation="identity",
            bias=True,
            init="glorot",
            seed=0,
            learning_rate=0.001,
            batch_size=None,
            epochs=800,
            metrics=["mse"],
        ),
    )


def _sklearn_loader(name):
    try:
        from sklearn import datasets
    except ImportError:
        raise ImportError(
            f"the {name!r} dataset is the copy bundled with scikit-learn, which is not "
            'installed: pip install ".[datasets]" in a clone of fastbp (or scikit-learn)'
        ) from None
    return getattr(datasets, f"load_{name}")


def _real_recipe(**settings):
    recipe = {
        "standardize": True,
        "standardize_targets": True,
        "seed": 0,
        "shuffle": True,
        "reduction": "mean",
    }
    recipe.update(settings)
    return recipe


def iris():
    """Fisher's iris: 150 flowers, 4 measurements, 3 species (scikit-learn's copy)."""
    bunch = _sklearn_loader("iris")()
    return Dataset(
        "iris",
        bunch.data.astype(np.float64),
        bunch.target.astype(np.int64),
        tuple(bunch.feature_names),
        tuple(bunch.target_names),
        "Fisher's iris data set, as bundled with scikit-learn",
        _real_recipe(
            layers=[16],
            activation="relu",
            output_activation="softmax",
            loss="cross_entropy",
            learning_rate=0.05,
            batch_size=16,
            epochs=200,
            metrics=["accuracy"],
        ),
    )


def digits():
    """Handwritten digits: 1,797 8x8 images, 10 classes (scikit-learn's copy of UCI's)."""
    bunch = _sklearn_loader("digits")()
    return Dataset(
        "digits",
        bunch.data.astype(np.float64),
        bunch.target.astype(np.int64),
        tuple(bunch.feature_names),
        tuple(str(t) for t in bunch.target_names),
        "UCI optical recognition of handwritten digits, as bundled with scikit-learn",
        _real_recipe(
            layers=[64],
            activation="relu",
            output_activation="softmax",
            loss="cross_entropy",
            learning_rate=0.05,
            batch_size=32,
            epochs=60,
            metrics=["accuracy"],
        ),
    )


def diabetes():
    """Diabetes progression after one year from 10 baseline variables, 442 patients (the
    regression data set bundled with scikit-learn)."""
    bunch = _sklearn_loader("diabetes")()
    return Dataset(
        "diabetes",
        bunch.data.astype(np.float64),
        bunch.target.astype(np.float64)[:, None],
        tuple(bunch.feature_names),
        ("progression",),
        "Efron et al.'s diabetes data, as bundled with scikit-learn",
        _real_recipe(
            layers=[32],
            activation="relu",
            output_activation="identity",
            learning_rate=0.001,
            batch_size=16,
            epochs=300,
            metrics=["mae"],
        ),
    )


# The seed tutorials' data sets, each with its tutorial's settings.
TUTORIALS = (
    "xor",
    "first_column",
    "streetlights",
    "streetlights_linear",
    "test_scores",
    "lecture_notes",
)
LOADERS = {
    loader.__name__: loader
    for loader in (
        xor,
        first_column,
        streetlights,
        streetlights_linear,
        test_scores,
        lecture_notes,
        iris,
        digits,
        diabetes,
    )
}


def load(name):
    """The built-in dataset called ``name`` (one of ``LOADERS``)."""
    if name not in LOADERS:
        raise ValueError(f"dataset must be one of {', '.join(LOADERS)}; got {name!r}")
    return LOADERS[name]()
