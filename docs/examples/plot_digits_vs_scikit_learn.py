"""
The estimator on digits, beside scikit-learn's
==============================================

``fastbp.sklearn.MLPClassifier`` takes scikit-learn's parameters and trains the same network
from the same initial weights: on the digits, in a pipeline with ``StandardScaler``, its
learning curve is scikit-learn's, epoch for epoch, and it fits in a fraction of the time.
"""

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn import neural_network
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import fastbp.sklearn

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
fits = {}
for name, estimator in (
    ("fastbp", fastbp.sklearn.MLPClassifier),
    ("scikit-learn", neural_network.MLPClassifier),
):
    model = make_pipeline(StandardScaler(), estimator(random_state=0, max_iter=60))
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 60 epochs end the fit
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - started
    fits[name] = model[-1]
    print(f"{name}: {seconds:.2f} s, test accuracy {model.score(X_test, y_test):.4f}")

ours, theirs = (np.array(model.loss_curve_) for model in fits.values())
difference = np.max(np.abs(ours - theirs))
print(f"largest difference between the two loss curves: {difference:.2e}")

# %%
fig, ax = plt.subplots()
for name, model in fits.items():
    ax.semilogy(model.loss_curve_, label=name, linestyle="-" if name == "fastbp" else "--")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_title("MLPClassifier on digits")
ax.legend()
plt.show()
