"""Integer codes shared by the kernels and the Python wrappers.

Kernels receive codes, never names: the tables here are the only mapping between the two.
"""

# Activation codes.
IDENTITY = 0
SIGMOID = 1
TANH = 2
RELU = 3
SOFTMAX = 4
EXP = 5  # scikit-learn's output for loss="poisson"


# Loss codes.
SQUARED_ERROR = 0
CROSS_ENTROPY = 1
POISSON = 2  # half the Poisson deviance, on an EXP output (scikit-learn's MLPRegressor)

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
# Batch normalization of the layer's pre-activations (hidden layers only): its scale (gamma)
# and shift (beta) start at NORM_OFFSET in the parameters, one after the other; its running
# mean and variance at STATS_OFFSET in the statistics vector, likewise.
HAS_NORM = 8
NORM_OFFSET = 9  # meaningful only where HAS_NORM is 1, as are the two below
STATS_OFFSET = 10
LAYOUT_COLUMNS = 11

# Columns of the per-epoch history table filled by the training kernels.
LOSS = 0
SSE = 1
MSE = 2
MAE = 3
ACCURACY = 4
METRIC_COLUMNS = 5  # the columns of one set of metrics: a history without validation data
# The same five on the validation data (the matrix kernel, when given validation data), in
# columns VALIDATION + LOSS and on.
VALIDATION = METRIC_COLUMNS
HISTORY_COLUMNS = VALIDATION + METRIC_COLUMNS

# Entries of the float settings vector (in the network's dtype).
LEARNING_RATE = 0
BATCH_DIVISOR = 1  # what a full batch's summed gradient is divided by: 1 for "sum", k for "mean"
LAST_BATCH_DIVISOR = 2  # the same for the last, possibly shorter, batch
LOG_CLIP = 3  # probabilities are clipped to [LOG_CLIP, 1 - LOG_CLIP] before a logarithm
# Settings of the training features beyond plain SGD; fastbp.optimizers, fastbp.schedules
# and Trainer fill them.
MOMENTUM = 4
BETA_1 = 5
BETA_2 = 6
EPSILON = 7
RPROP_INCREASE = 8
RPROP_DECREASE = 9
RPROP_STEP_MIN = 10
RPROP_STEP_MAX = 11
L2 = 12
CLIP_VALUE = 13  # 0: no clipping of deltas
CLIP_NORM = 14  # 0: no clipping of the gradient's norm
DROPOUT = 15  # the probability of dropping a hidden unit
DROPOUT_SCALE = 16  # 1 / (1 - DROPOUT), what a kept unit is multiplied by
SCHEDULE_POWER = 17  # invscaling: learning_rate / (epoch + 1) ** power
SCHEDULE_FACTOR = 18  # step and plateau: what the learning rate is multiplied by
SCHEDULE_THRESHOLD = 19  # plateau: a relative improvement smaller than this is none
MIN_DELTA = 20  # early stopping: an improvement of the monitored loss smaller than this is none
NORM_MOMENTUM = 21  # batch normalization: running = (1 - m) * running + m * batch statistic
NORM_EPSILON = 22  # added to the variance under the square root
SETTINGS_SIZE = 23

# Optimizer codes.
SGD = 0
MOMENTUM_SGD = 1
NESTEROV = 2
ADAM = 3
RPROP = 4

# Schedule codes.
CONSTANT = 0
INVSCALING = 1
STEP = 2
PLATEAU = 3

# Entries of the integer options vector.
LOSS_CODE = 0
BATCH_SIZE = 1
SHUFFLE = 2
# Parameters are checked for non-finite values every CHECK_EVERY epochs and at a call's last
# epoch (the loss every epoch): see kernels.layers.check_epoch.
CHECK_EVERY = 3
OPTIMIZER = 4
L2_BIASES = 5  # 1: the L2 penalty covers the biases too
SCHEDULE = 6
SCHEDULE_EVERY = 7  # step: epochs between reductions; plateau: patience in epochs
PATIENCE = 8  # early stopping: epochs without improvement before the fit stops; 0: never
# scikit-learn's batches (fastbp.sklearn), each 1 for on:
WEIGHTED_MEAN = 9  # divide by the batch's summed sample weight; weigh its loss by n / weight
L2_DIVIDED = 10  # the L2 term joins the summed gradient before the division
L2_IN_LOSS = 11  # the history's loss adds each batch's L2 penalty
LOSS_OUTPUT_MEAN = 12  # the history's per-example loss is the mean over the outputs
THREADS = 13  # the matrix kernel's layer products are split over this many threads
# An ensemble's lanes record only the metrics the fit asks for (a 256-member fit's history is
# 5 columns a member and epoch otherwise): entry RECORDED + m is the column of metric m (LOSS,
# SSE, ...) in a block's history row, or -1. The loss is always recorded, in column LOSS.
RECORDED = 14
OPTIONS_SIZE = RECORDED + METRIC_COLUMNS

# Entries of the float64 counters vector: the state of a fit that is not a parameter vector,
# carried from one chunk of epochs (one kernel call) to the next.
EPOCH = 0  # epochs trained by this trainer, across fits: what schedules count
STEP_COUNT = 1  # updates made, across fits: Adam's bias correction counts them
RATE = 2  # the learning rate of the plateau schedule, as reduced so far
PLATEAU_BEST = 3
PLATEAU_WAIT = 4
BEST_LOSS = 5  # early stopping, per fit: the best monitored loss, its epoch, epochs since
BEST_EPOCH = 6
WAIT = 7
STOPPED = 8  # 1 once early stopping has ended the fit
COUNTERS_SIZE = 9
