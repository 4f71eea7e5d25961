"""
Export to ONNX and run it in ONNX Runtime
=========================================

``Network.to_onnx`` writes a trained network as an ONNX graph, which ONNX Runtime (or any
ONNX runner) evaluates without fastbp: its outputs are ``predict``'s.
"""

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime

from fastbp import Network, Trainer

rng = np.random.default_rng(0)
X = rng.uniform(-3, 3, (200, 1))
y = np.sin(X)
net = Network([1, 16, 1], activations=["tanh", "identity"], seed=0)
Trainer(net, learning_rate=0.05, batch_size=16, seed=0).fit(X, y, epochs=300)

model = net.to_onnx()
session = onnxruntime.InferenceSession(
    model.SerializeToString(), providers=["CPUExecutionProvider"]
)
grid = np.linspace(-3, 3, 100).reshape(-1, 1)
(outputs,) = session.run(["outputs"], {"X": grid})
print(f"largest difference from predict: {np.max(np.abs(outputs - net.predict(grid))):.2e}")

# %%
fig, ax = plt.subplots()
ax.plot(X, y, ".", label="training data", alpha=0.4)
ax.plot(grid, outputs, label="ONNX Runtime")
ax.set_xlabel("x")
ax.legend()
ax.set_title("A 1-16-1 tanh network, run from its ONNX export")
plt.show()
