"""The source lines of one parameter's update, as the generated kernels write it out.

``kernels.updates.apply_update`` takes a batch's step over the whole parameter vector, pass
after pass. A kernel written out by ``kernels.skeleton`` takes it one parameter at a time,
either straight after that parameter's gradient is known (per example, in the backward pass)
or in one sweep at the end of a batch. The lines here do what ``apply_update`` does to one
parameter, in its order of operations, so the two round identically.
"""

from fastbp.kernels import codes

# The optimizers a step can be written out for: each updates a parameter from its own
# gradient and state alone (iRPROP- is full-batch only and stays in kernels.updates).
OPTIMIZERS = (codes.SGD, codes.MOMENTUM_SGD, codes.NESTEROV, codes.ADAM)


class Step:
    """The update of one parameter for a fit's ``optimizer`` (a code in ``OPTIMIZERS``).

    ``l2`` adds the L2 penalty's gradient ``l2 * w`` where ``lines`` is told the parameter
    is decayed: after the division by the batch's divisor, or before it with
    ``l2_divided``. ``divides`` says whether there is a divisor other than 1 to divide by
    (a batch, or a per-example fit weighted by its examples' weights).
    """

    def __init__(self, optimizer, l2=False, l2_divided=False, divides=True):
        self.optimizer = optimizer
        self.l2 = l2
        self.l2_divided = l2_divided
        self.divides = divides

    @property
    def plain(self):
        """Whether this is plain SGD, whose step needs no temporary."""
        return self.optimizer == codes.SGD and not self.l2

    def lines(self, w, gradient, decayed, state=None, second=None):
        """Lines updating the parameter ``w`` (an assignable expression) from the summed
        ``gradient`` (an expression); ``state`` and ``second`` name its optimizer state
        (velocity, or Adam's moments) and ``decayed`` whether L2 covers it."""
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"no step is written out for the optimizer code {self.optimizer}")
        if self.plain:
            if not self.divides:
                # w + (-rate) * g rounds exactly as w - rate * g.
                return [f"{w} += step * {gradient}"]
            return [f"{w} -= rate * ({gradient} / divisor)"]
        return self.gradient_lines(w, gradient, decayed) + self.optimizer_lines(w, state, second)

    def gradient_lines(self, w, gradient, decayed):
        """Lines setting ``g`` to the parameter ``w``'s gradient as the optimizer takes it:
        the summed ``gradient`` divided, and with the L2 term where ``decayed``."""
        lines = [f"g = {gradient}"]
        decay = self.l2 and decayed
        if decay and self.l2_divided:
            lines.append(f"g = g + l2 * {w}")
        if self.divides:
            lines.append("g = g / divisor")
        if decay and not self.l2_divided:
            lines.append(f"g = g + l2 * {w}")
        return lines

    def optimizer_lines(self, w, state=None, second=None):
        """Lines stepping the parameter ``w`` by the optimizer's rule from its gradient
        ``g`` (as ``gradient_lines`` leave it) and its ``state`` and ``second``."""
        if self.optimizer == codes.SGD:
            return [f"{w} -= rate * g"]
        if self.optimizer == codes.ADAM:
            # Not ``m`` and ``v``: an ensemble's kernel (kernels.lanes) names its lane ``m``.
            return [
                f"first_moment = beta_1 * {state} + (one - beta_1) * g",
                f"second_moment = beta_2 * {second} + (one - beta_2) * (g * g)",
                f"{state} = first_moment",
                f"{second} = second_moment",
                f"{w} -= step_size * first_moment / (np.sqrt(second_moment) + epsilon)",
            ]
        lines = [f"velocity = momentum * {state} - rate * g", f"{state} = velocity"]
        if self.optimizer == codes.NESTEROV:
            return [*lines, f"{w} += momentum * velocity - rate * g"]
        return [*lines, f"{w} += velocity"]

    def prologue(self):
        """Lines run once per update, before any parameter's: Adam's bias-corrected step
        size, from the update count (which they advance, as ``apply_update`` does)."""
        if self.optimizer != codes.ADAM:
            return []
        return [
            "counters[codes.STEP_COUNT] += 1.0",
            "t = counters[codes.STEP_COUNT]",
            "corrected = np.float64(rate) * np.sqrt(1.0 - np.float64(beta_2) ** t)",
            "step_size = params.dtype.type(corrected / (1.0 - np.float64(beta_1) ** t))",
        ]

    @property
    def counts_steps(self):
        """Whether ``prologue`` advances the update count (else the epoch does, at once)."""
        return self.optimizer == codes.ADAM
