"""
The lecture notes' tanh network
===============================

The lecture notes fit three points with targets ``x @ [2, -1, 5]`` by a 3-2-1 network, a
tanh hidden layer and a linear output, trained full batch at a rate of 0.001
(``fastbp.datasets.lecture_notes``).
"""

import matplotlib.pyplot as plt

from fastbp import Network, Trainer, datasets

data = datasets.lecture_notes()
print(data.description)
net = Network([3, 2, 1], activations=["tanh", "identity"], seed=0)
trainer = Trainer(net, learning_rate=0.001, batch_size=None, reduction="sum", shuffle=False)
history = trainer.fit(data.X, data.y, epochs=800, metrics=["mse"])
print(f"mse after the first epoch {history['mse'][0]:.6g}, after the last {history['mse'][-1]:.6g}")
print("predictions:", net.predict(data.X).ravel(), "targets:", data.y.ravel())

# %%
fig, ax = plt.subplots()
ax.semilogy(history["mse"])
ax.set_xlabel("iteration")
ax.set_ylabel("mean squared error")
ax.set_title("Lecture notes, 3-2-1 tanh network")
plt.show()
