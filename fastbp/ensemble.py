"""``Ensemble``: many networks of one architecture, held side by side and trained together."""

import copy
import threading

import numpy as np

from fastbp._memory import aligned_zeros
from fastbp.kernels import predict as predict_kernels
from fastbp.kernels.lanes import LANES
from fastbp.network import Network, activation_width

# What members must share, beside their dtype (Network attributes).
_ARCHITECTURE = ("sizes", "activations", "bias", "batch_norm")


class Ensemble:
    """Networks of one architecture and dtype, trained together by one ``Trainer``.

    The members' parameters are copied in and kept side by side, the member innermost
    (blocks of ``LANES`` members, each parameter's values of a block contiguous), so that a
    compiled kernel trains a block of members in the lanes of one SIMD register and the
    blocks on several cores. ``Trainer(ensemble, ...)`` trains every member in one compiled
    call per chunk of epochs; each member ends exactly as the same network trained alone
    with that member's settings. ``Trainer``'s ``network`` lists the training features an
    ensemble's fit runs, and those it refuses by name.

    Parameters
    ----------
    networks : sequence of Network
        The members: at least one, all of the same sizes, activations, biases and dtype,
        without batch normalization and with the same input ``scaling`` (or none). Their
        parameters are copied; the networks themselves are left as they are.

    Attributes
    ----------
    metadata : dict
        JSON-compatible information saved with the ensemble; ``metadata["fits"]`` lists the
        settings (per-member ones as lists), epochs and diverged members of every fit.

    Examples
    --------
    >>> ensemble = Ensemble.from_seeds([3, 4, 1], seeds=range(10), activations="sigmoid")
    >>> len(ensemble), ensemble.predict([[0, 1, 1]]).shape
    (10, (10, 1, 1))
    """

    def __init__(self, networks):
        networks = _check_members(networks)
        first = networks[0]
        self._template = first.copy()
        self._template.metadata = {"fits": []}
        self._seeds = [network.seed for network in networks]
        self._member_metadata = [_copied(network.metadata) for network in networks]
        n_blocks = -(-len(networks) // LANES)
        n_params = first.params.size
        self._blocks = aligned_zeros(n_blocks * n_params * LANES, first.dtype).reshape(
            n_blocks, n_params, LANES
        )
        members = np.stack([network.params for network in networks])
        put_member_rows(self._blocks, members)
        self._fit_lock = threading.Lock()  # held by Trainer.fit, as a Network's
        self.metadata = {"fits": []}

    @classmethod
    def from_seeds(cls, sizes, seeds, **network_options):
        """An ensemble of ``Network(sizes, seed=seed, **network_options)`` for each of
        ``seeds`` (a sequence of ints), in order.

        Examples
        --------
        >>> Ensemble.from_seeds([2, 3, 1], seeds=[1, 2, 3]).n_members
        3
        """
        if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
            raise TypeError(f"seeds must be a sequence of integers; got {seeds!r}")
        return cls([Network(sizes, seed=seed, **network_options) for seed in seeds])

    def __len__(self):
        return len(self._seeds)

    @property
    def n_members(self):
        """How many networks the ensemble holds."""
        return len(self._seeds)

    def network(self, k):
        """Member ``k`` as a standalone ``Network``: a copy of its parameters, seed and
        metadata; changing it leaves the ensemble as it was."""
        k = self._member_index(k)
        member = self._template.copy()
        member._seed = self._seeds[k]
        member.params[:] = self._blocks[k // LANES, :, k % LANES]
        member.metadata = copy.deepcopy(self._member_metadata[k])
        return member

    def set_network(self, k, network):
        """Copy the parameters of ``network`` (of the ensemble's architecture and dtype)
        into member ``k``."""
        k = self._member_index(k)
        _check_members([self._template, network])
        self._blocks[k // LANES, :, k % LANES] = network.params

    @property
    def params(self):
        """Every member's parameters, a copy of shape ``(n_members, n_params)``."""
        return member_rows(self._blocks, self.n_members).copy()

    def predict(self, X, mean=False):
        """Each member's outputs for every row of ``X``.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_inputs)
            Inputs (standardized by the ensemble's ``scaling``, if any).
        mean : bool, default False
            Return the members' mean instead of each member's outputs.

        Returns
        -------
        ndarray of shape (n_members, n_samples, n_outputs), or (n_samples, n_outputs) with
        ``mean``
            In the ensemble's dtype; each member's outputs are its ``network(k).predict(X)``.
        """
        X = self.inputs(X)
        template = self._template
        out = np.empty((self.n_members, X.shape[0], self.n_outputs), dtype=self.dtype)
        acts = aligned_zeros(activation_width(self.layout), self.dtype)
        params = aligned_zeros(self._blocks.shape[1], self.dtype)
        epsilon = self.dtype.type(template.norm_epsilon)
        predict = predict_kernels.for_sizes(template.sizes)
        for k in range(self.n_members):
            params[:] = self._blocks[k // LANES, :, k % LANES]
            predict(params, self.layout, X, acts, out[k], template.statistics, epsilon)
        return out.mean(axis=0, dtype=self.dtype) if mean else out

    def inputs(self, X, name="X", sparse=False):
        """``X`` checked and converted as the kernels take it (see ``Network.inputs``; a
        sparse ``X`` reaches an ensemble's fit, which refuses it by its feature)."""
        return self._template.inputs(X, name, sparse)

    def save(self, path):
        """Write the ensemble to ``path`` (a ``.npz`` file in fastbp's safe format): every
        member's parameters bit for bit, their seeds and metadata, the architecture and the
        ensemble's ``metadata``. ``fastbp.load`` reads it back as an ``Ensemble``."""
        from fastbp import persistence

        persistence.save_ensemble(self, path)

    @property
    def seeds(self):
        """Each member's initialization seed (list of int or None)."""
        return list(self._seeds)

    @property
    def scaling(self):
        """The members' common input ``Standardization``, or None."""
        return self._template.scaling

    def _member_index(self, k):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"k must be an integer member index; got {k!r}")
        if not -self.n_members <= k < self.n_members:
            raise IndexError(f"member {k} out of range for an ensemble of {self.n_members}")
        return int(k) % self.n_members

    def __repr__(self):
        template = self._template
        return (
            f"Ensemble(n_members={self.n_members}, sizes={list(template.sizes)}, "
            f"activations={list(template.activations)}, dtype={template.dtype.name})"
        )


def _delegate(name):
    return property(
        lambda self: getattr(self._template, name),
        doc=f"The members' ``{name}`` (see ``Network.{name}``).",
    )


for _name in (*_ARCHITECTURE, "dtype", "n_inputs", "n_outputs", "layout", "norm_epsilon"):
    setattr(Ensemble, _name, _delegate(_name))


def in_blocks(values, n_blocks, lanes=LANES):
    """``values`` (one entry or row per member) as ``(n_blocks, lanes, ...)``; the lanes past
    the last member repeat it (they train a copy of it, whose results nobody reads)."""
    values = np.asarray(values)
    padding = np.repeat(values[-1:], n_blocks * lanes - values.shape[0], axis=0)
    padded = np.concatenate([values, padding])
    return np.ascontiguousarray(padded.reshape(n_blocks, lanes, *values.shape[1:]))


def put_member_rows(blocks, rows):
    """Write ``rows`` (one per member) into ``blocks``, an array in the ensemble's layout
    ``(blocks, n, LANES)``, the lanes past the last member repeating it, as ``in_blocks``
    pads: block by block, without ``in_blocks``' padded copies (a 32-member fit of 64-32-10
    took 0.8 ms to commit through them, most of it the copies' first page faults)."""
    lanes = blocks.shape[2]
    n = rows.shape[1]
    for block in range(blocks.shape[0]):
        members = rows[block * lanes : (block + 1) * lanes]
        blocks[block, :n, : members.shape[0]] = members.T
        blocks[block, :n, members.shape[0] :] = rows[-1][:, None]


def member_rows(blocks, n_members):
    """An array in the ensemble's layout, ``(blocks, n, LANES)``, as one row per member (a
    view where NumPy can)."""
    return blocks.transpose(0, 2, 1).reshape(-1, blocks.shape[1])[:n_members]


def _check_members(networks):
    """``networks`` as a list, checked to be Networks an Ensemble can hold together."""
    if isinstance(networks, Network) or not hasattr(networks, "__iter__"):
        raise TypeError(f"networks must be a sequence of fastbp.Network; got {networks!r}")
    networks = list(networks)
    if not networks:
        raise ValueError("networks must hold at least one Network; got an empty sequence")
    for k, network in enumerate(networks):
        if not isinstance(network, Network):
            raise TypeError(f"networks[{k}] must be a fastbp.Network; got {type(network).__name__}")
    first = networks[0]
    if any(first.batch_norm):
        raise ValueError("networks: an Ensemble does not hold batch-normalized networks yet")
    # The first network's values read once, each member's compared as one tuple: 256
    # members took 0.6 ms with every attribute of both read for every member.
    names = (*_ARCHITECTURE, "dtype")
    architecture = tuple(getattr(first, name) for name in names)
    for k, network in enumerate(networks[1:], start=1):
        if tuple(getattr(network, name) for name in names) != architecture:
            name = next(n for n in names if getattr(network, n) != getattr(first, n))
            raise ValueError(
                f"networks must share one architecture and dtype: networks[{k}] has "
                f"{name} {getattr(network, name)!r}, networks[0] {getattr(first, name)!r}"
            )
        if not _same_scaling(network.scaling, first.scaling):
            raise ValueError(
                f"networks must share one input scaling: networks[{k}]'s differs from networks[0]'s"
            )
    return networks


def _copied(metadata):
    """A copy of a member's ``metadata``; a fresh network's without ``deepcopy`` (a tenth of
    a 256-member fit's time)."""
    return {"fits": []} if metadata == {"fits": []} else copy.deepcopy(metadata)


def _same_scaling(a, b):
    if a is None or b is None:
        return a is b
    return np.array_equal(a.mean, b.mean) and np.array_equal(a.scale, b.scale)
