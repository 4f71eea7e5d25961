"""
One hundred XOR networks at once
================================

``fastbp.Ensemble`` trains networks of one architecture side by side in one compiled call:
here the 11-line tutorial's 3-4-1 XOR network from 100 seeds, to see how the seed decides
where a fit ends.
"""

import matplotlib.pyplot as plt
import numpy as np

from fastbp import Ensemble, Trainer

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
y = np.array([0, 1, 1, 0])
ensemble = Ensemble.from_seeds(
    [3, 4, 1], seeds=range(100), activations="sigmoid", bias=False, init="uniform"
)
trainer = Trainer(ensemble, learning_rate=1.0, batch_size=None, reduction="sum", shuffle=False)
history = trainer.fit(X, y, epochs=60000, metrics=["mae"])  # history["mae"]: (60000, 100)
final = history["mae"][-1]
print(f"seeds whose final error is below 0.01: {np.sum(final < 0.01)} of {final.size}")
print(f"seed 1, the tutorial's, every 10,000 epochs: {history['mae'][::10000, 1]}")
print(ensemble.predict(X, mean=True))  # the members' mean

# %%
# The loss curves' median and spread:
low, median, high = np.percentile(history["mae"], [10, 50, 90], axis=1)
epochs = np.arange(1, history.epochs + 1)
fig, ax = plt.subplots()
ax.fill_between(epochs, low, high, alpha=0.3, label="10th-90th percentile of 100 seeds")
ax.plot(epochs, median, label="median")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("mean absolute error")
ax.set_title("The 3-4-1 XOR network from 100 seeds")
ax.legend()
plt.show()
