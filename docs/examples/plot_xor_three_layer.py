"""
A neural network in 11 lines: the 3-layer XOR network
=====================================================

"A Neural Network in 11 lines of Python" trains a 3-4-1 sigmoid network on XOR (the third
input is a constant 1) for 60,000 full-batch epochs from ``np.random.seed(1)``, and prints
the mean absolute error every 10,000 epochs: 0.496410031903, 0.00858452565325, ...
fastbp's ``init="uniform"`` draws the tutorial's weights, and ``reduction="sum"`` takes its
summed full-batch step.
"""

import matplotlib.pyplot as plt
import numpy as np

from fastbp import Network, Trainer

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
y = np.array([0, 1, 1, 0])
net = Network([3, 4, 1], activations="sigmoid", bias=False, init="uniform", seed=1)
trainer = Trainer(net, learning_rate=1.0, batch_size=None, reduction="sum", shuffle=False)
history = trainer.fit(X, y, epochs=60000, metrics=["mae"])

for epoch in range(0, 60000, 10000):
    print(f"Error: {history['mae'][epoch]:.12g}")
print(net.predict(X))

# %%
# The error over the 60,000 epochs:
fig, ax = plt.subplots()
ax.loglog(np.arange(1, 60001), history["mae"])
ax.set_xlabel("epoch")
ax.set_ylabel("mean absolute error")
ax.set_title("11-line 3-layer network on XOR")
plt.show()
