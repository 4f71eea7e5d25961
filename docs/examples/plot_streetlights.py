"""
Grokking Deep Learning: the streetlights
========================================

Chapter 6 teaches backpropagation on four streetlight patterns: walk (1) or stop (0). Its
3-4-1 network (relu hidden layer, no biases) learns them by per-example SGD at a rate of
0.2, and the book prints the summed squared error every 10 iterations: 0.634231159844,
0.358384076763, 0.0830183113303, 0.0064670549571, 0.000329266900075, 1.50556226651e-05.
"""

import matplotlib.pyplot as plt
import numpy as np

from fastbp import Network, Trainer

streetlights = np.array([[1, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1]])
walk_vs_stop = np.array([1, 1, 0, 0])
net = Network([3, 4, 1], activations=["relu", "identity"], bias=False, init="uniform", seed=1)
trainer = Trainer(net, learning_rate=0.2, batch_size=1, reduction="sum", shuffle=False)
history = trainer.fit(streetlights, walk_vs_stop, epochs=60, metrics=["sse"])
for iteration in range(9, 60, 10):
    print(f"Error:{history['sse'][iteration]:.12g}")

# %%
fig, ax = plt.subplots()
ax.semilogy(np.arange(1, 61), history["sse"], marker=".")
ax.set_xlabel("iteration")
ax.set_ylabel("summed squared error")
ax.set_title("Streetlights, 3-4-1 relu network")
plt.show()
