"""
How backpropagation works: test scores from sleep and study
===========================================================

The Welch Labs example: a 2-3-1 sigmoid network predicts test scores from hours of sleep
and of study (each input divided by its column's maximum, the scores by 100), trained full
batch. ``fastbp.datasets.test_scores`` holds the data and the tutorial's recipe.
"""

import matplotlib.pyplot as plt
import numpy as np

from fastbp import Network, Trainer, datasets

data = datasets.test_scores()
print(data.description)
net = Network([2, 3, 1], activations="sigmoid", bias=False, init="normal", seed=0)
trainer = Trainer(net, learning_rate=1.0, batch_size=None, reduction="sum", shuffle=False)
history = trainer.fit(data.X, data.y, epochs=1000, metrics=["mse"])
print("scores predicted:", np.round(100 * net.predict(data.X).ravel(), 1))
print("scores:          ", 100 * data.y.ravel())

# %%
fig, ax = plt.subplots()
ax.semilogy(history["mse"])
ax.set_xlabel("iteration")
ax.set_ylabel("mean squared error")
ax.set_title("Test scores, 2-3-1 sigmoid network")
plt.show()
