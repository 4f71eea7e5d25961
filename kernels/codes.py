"""Integer codes shared by the kernels and the Python wrappers.

Kernels receive codes, never names: the tables here are the only mapping between the two.
"""

# Activation codes.
IDENTITY = 0
SIGMOID = 1
TANH = 2
RELU = 3
SOFTMAX = 4

# Loss codes.
SQUARED_ERROR = 0
CROSS_ENTROPY = 1

# Columns of the layout table (uint64, so LLVM can prove every computed index non-negative
# and drop Numba's wrap-around code): one row per weight layer.
FAN_IN = 0
FAN_OUT = 1
WEIGHT_OFFSET = 2
BIAS_OFFSET = 3  # meaningful only where HAS_BIAS is 1
HAS_BIAS = 4
ACTIVATION = 5
INPUT_OFFSET = 6  # where the layer's inputs start in the activation scratch
OUTPUT_OFFSET = 7  # where the layer's outputs start in the activation scratch
LAYOUT_COLUMNS = 8

# Columns of the per-epoch history table filled by the training kernels.
LOSS = 0
SSE = 1
MSE = 2
MAE = 3
ACCURACY = 4
HISTORY_COLUMNS = 5

# Entries of the float settings vector (in the network's dtype).
LEARNING_RATE = 0
BATCH_DIVISOR = 1  # what a full batch's summed gradient is divided by: 1 for "sum", k for "mean"
LAST_BATCH_DIVISOR = 2  # the same for the last, possibly shorter, batch
LOG_CLIP = 3  # probabilities are clipped to [LOG_CLIP, 1 - LOG_CLIP] before a logarithm
SETTINGS_SIZE = 4

# Entries of the integer options vector.
LOSS_CODE = 0
BATCH_SIZE = 1
SHUFFLE = 2
# Parameters are checked for non-finite values every CHECK_EVERY epochs and at a call's last
# epoch (the loss every epoch): see kernels.layers.check_epoch.
CHECK_EVERY = 3
OPTIONS_SIZE = 4
