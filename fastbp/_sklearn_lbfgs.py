"""scikit-learn's "lbfgs" solver: SciPy's L-BFGS-B on the loss and gradient of the whole data
set, which fastbp's full-batch kernel computes (``fastbp._full_batch``).

The objective is scikit-learn's: the mean (sample-weighted) loss, squared error averaged over
the outputs too, plus ``0.5 * alpha * ||W||**2`` over the weights (not the intercepts), all
divided by the summed sample weight; its gradient divides the summed gradient plus
``alpha * W`` by the same. The minimizer sees the parameters in scikit-learn's order (every
layer's weights, then every intercept), not fastbp's (each layer's weights, then its bias),
so that its own sums round as scikit-learn's do.

Imported by ``fastbp.sklearn`` only, after it has checked that scikit-learn is installed.
"""

import numpy as np
import scipy.optimize
from sklearn.base import is_classifier
from sklearn.utils.optimize import _check_optimize_result

try:  # scikit-learn 1.7 and later: SciPy 1.15 deprecated L-BFGS-B's iprint
    from sklearn.utils.fixes import _get_additional_lbfgs_options_dict
except ImportError:  # scikit-learn 1.6 passes iprint as it is

    def _get_additional_lbfgs_options_dict(key, value):
        return {key: value}


from fastbp import _sklearn_sgd
from fastbp._full_batch import FullBatch
from fastbp.kernels import codes


def fit_lbfgs(estimator, run, X, Y, sample_weight):
    """scikit-learn's ``_fit_lbfgs`` for ``estimator``: minimize from ``run.network``'s
    parameters and update ``run`` (``n_iter`` and ``loss``)."""
    network = run.network
    regression = not is_classifier(estimator)
    loss_name = _sklearn_sgd._loss(estimator, regression)
    evaluate = FullBatch(network, X, Y, sample_weight, loss_name)
    weight_sum = X.shape[0] if sample_weight is None else sample_weight.sum()
    # scikit-learn's squared error is a mean over the outputs, its Poisson deviance a sum.
    outputs = Y.shape[1] if loss_name == "squared_error" else 1
    order = _sklearn_order(network)  # x = params[order]: scikit-learn's packing
    n_weights = sum(w.size for w in network.weights)
    alpha = estimator.alpha
    params = np.empty(network.params.size, network.dtype)

    def loss_and_gradient(x):
        params[order] = x
        loss, gradient = evaluate(params)
        weights = x[:n_weights]
        loss = loss / outputs / weight_sum + (0.5 * alpha) * np.dot(weights, weights) / weight_sum
        gradient = gradient[order].astype(np.float64)
        gradient[:n_weights] += alpha * weights
        return loss, gradient / weight_sum

    iprint = 1 if estimator.verbose is True or estimator.verbose >= 1 else -1
    result = scipy.optimize.minimize(
        loss_and_gradient,
        network.params[order].astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        options={
            "maxfun": estimator.max_fun,
            "maxiter": estimator.max_iter,
            "gtol": estimator.tol,
            **_get_additional_lbfgs_options_dict("iprint", iprint),
        },
    )
    run.n_iter = _check_optimize_result("lbfgs", result, estimator.max_iter)
    run.loss = result.fun
    network.params[order] = result.x


def _sklearn_order(network):
    """The positions in ``network.params`` of scikit-learn's packed parameters: every layer's
    weights (row by row), then every layer's intercepts."""
    weights, biases = [], []
    for row in network.layout.astype(np.int64):
        start = row[codes.WEIGHT_OFFSET]
        weights.append(np.arange(start, start + row[codes.FAN_IN] * row[codes.FAN_OUT]))
        start = row[codes.BIAS_OFFSET]
        biases.append(np.arange(start, start + row[codes.FAN_OUT]))
    return np.concatenate(weights + biases)
