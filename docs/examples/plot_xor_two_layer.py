"""
A neural network in 11 lines: the 2-layer network
=================================================

The tutorial's first network, one sigmoid layer with no hidden units, learns that the
output copies the first input in 10,000 full-batch iterations, and prints its "Output After
Training" (0.00966449, 0.00786506, 0.99358898, 0.99211957): the forward pass of the last
iteration, made before that iteration's update, so 9,999 updates and then ``predict``.
"""

import matplotlib.pyplot as plt
import numpy as np

from fastbp import Network, Trainer

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
y = np.array([0, 0, 1, 1])
net = Network([3, 1], activations="sigmoid", bias=False, init="uniform", seed=1)
trainer = Trainer(net, learning_rate=1.0, batch_size=None, reduction="sum", shuffle=False)
history = trainer.fit(X, y, epochs=9999, metrics=["mae"])
print("Output After Training:")
print(net.predict(X))

# %%
fig, ax = plt.subplots()
ax.loglog(np.arange(1, 10000), history["mae"])
ax.set_xlabel("epoch")
ax.set_ylabel("mean absolute error")
ax.set_title("11-line 2-layer network")
plt.show()
