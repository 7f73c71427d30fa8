"""Nguyen et al. (2019) ICME baseline: causal CNNs regressing window overlaps with ICMEs.

Nguyen et al. (2019, ApJ 874:145, "Automatic detection of interplanetary coronal
mass ejections from in situ data: a deep learning approach") train one small CNN
per window width ``w``; each sees the ``w`` samples ending at time ``t`` and
predicts the fraction of that window that lies inside an ICME. Sliding the
windows along the data and adding up the predictions gives a per-sample ICME
proxy from which events are extracted.

This module is a reduced, vectorised version: three widths by default (the
paper used many more, from hours to days, at a coarser cadence) and every
sub-network is a causal convolutional network that slides over the whole
sequence at once instead of cutting windows. Its receptive field is exactly
``w``: convolutions and max-pooling are applied "a trous" (stride 1, dilation
doubling after each pooling), which computes at every step what the windowed
CNN would compute on the window ending there. :func:`overlaps_to_probability`
turns the overlaps into a score in [0, 1] that is thresholded into events
(e.g. with :func:`~planetml_lib.preprocess.events.mask_to_events`), where the
paper used its own peak-detection step.
"""

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn

from planetml_lib.errors import PlanetMLError
from planetml_lib.models.blocks import CausalConv1d, CausalMaxPool1d


def _window_cnn(in_channels, width, n_filters, n_levels, n_hidden, dropout):
    """One causal sub-network whose output at step t sees exactly steps t - width + 1 .. t.

    Level ``l`` is a 3-tap convolution with dilation ``2**l``, ReLU and a
    2-step max-pool with the same dilation (span ``3 * 2**l`` steps together);
    a final convolution with dilation ``2**n_levels`` plays the dense layer
    over the pooled window; the first kernel absorbs the remainder so that
    the spans add up to ``width``.
    """
    stride = 2**n_levels
    final_taps, extra = divmod(width - (3 * stride - 2), stride)
    layers, channels = [], in_channels
    for level in range(n_levels):
        kernel = 3 + (extra if level == 0 else 0)
        layers += [CausalConv1d(channels, n_filters, kernel, dilation=2**level), nn.ReLU(inplace=True),
                   CausalMaxPool1d(dilation=2**level)]
        channels = n_filters
    return nn.Sequential(
        *layers,
        CausalConv1d(channels, n_hidden, final_taps + 1, dilation=stride),
        nn.ReLU(inplace=True),
        nn.Dropout1d(dropout),
        nn.Conv1d(n_hidden, 1, kernel_size=1),
        nn.Sigmoid(),
    )


class NguyenCNN(nn.Module):
    """One causal CNN per window width, each predicting the ICME overlap of the window ending at each step.

    Parameters
    ----------
    in_channels : int
        Number of input variables (channels) per time step.
    widths : sequence of int, default (64, 128, 256)
        Window widths in samples (at 10-min cadence: about 10.7 h, 21 h and
        43 h); each must be at least ``3 * 2**n_levels - 2``.
    n_filters : int, default 16
        Channels of every convolution level.
    n_levels : int, default 3
        Convolution + max-pooling levels per sub-network.
    n_hidden : int, default 32
        Units of the dense layer spanning the pooled window.
    dropout : float, default 0.0
        Channel dropout probability after the dense layer.

    Notes
    -----
    Input ``(batch, in_channels, steps)``, float32 and finite, any length.
    Output ``(batch, n_widths, steps)``: the predicted fraction (sigmoid, in
    [0, 1]) of the window ``[t - w + 1, t]`` inside an ICME; unlike the
    classifiers it is a regression output, so ``predict_batches`` needs no
    activation. The output at ``t`` depends only on samples ``t - w + 1 .. t``
    (zero padding before the start), so the first ``w - 1`` outputs of a
    sequence lack context: train against :func:`overlap_targets` of the same
    window (NaN there, so skipped by
    :class:`~planetml_lib.train.systems.MaskedMSELoss`), and predict on a long
    sequence at once (any length works) rather than on short windows.

    Examples
    --------
    >>> model = NguyenCNN(in_channels=4, widths=(22, 40))
    >>> model(torch.zeros(2, 4, 100)).shape
    torch.Size([2, 2, 100])
    """

    def __init__(self, in_channels, widths=(64, 128, 256), n_filters=16, n_levels=3, n_hidden=32, dropout=0.0):
        super().__init__()
        widths = list(widths)
        _check_options(in_channels, widths, n_filters, n_levels, n_hidden, dropout)
        self.widths = widths
        self.nets = nn.ModuleList(
            _window_cnn(in_channels, width, n_filters, n_levels, n_hidden, dropout) for width in widths
        )

    def forward(self, x):
        """Return overlap fractions ``(batch, n_widths, steps)`` for ``x`` ``(batch, in_channels, steps)``."""
        return torch.cat([net(x) for net in self.nets], dim=1)


def _check_options(in_channels, widths, n_filters, n_levels, n_hidden, dropout):
    """Raise PlanetMLError for constructor options that cannot build a model."""
    for name, value in [("in_channels", in_channels), ("n_filters", n_filters), ("n_levels", n_levels),
                        ("n_hidden", n_hidden), *((f"widths[{i}]", w) for i, w in enumerate(widths))]:
        if not isinstance(value, int) or value < 1:
            raise PlanetMLError(f"NguyenCNN: {name} must be a positive integer, got {value!r}")
    smallest = 3 * 2**n_levels - 2
    if not widths or min(widths) < smallest:
        raise PlanetMLError(
            f"NguyenCNN: every width must be >= {smallest} samples with n_levels={n_levels}, got {widths}"
        )
    if not 0.0 <= dropout < 1.0:
        raise PlanetMLError(f"NguyenCNN: dropout must be in [0, 1), got {dropout!r}")


def _check_widths(widths):
    """Return ``widths`` as a list of positive ints or raise PlanetMLError."""
    widths = list(widths)
    if not widths or any(not isinstance(w, (int, np.integer)) or w < 1 for w in widths):
        raise PlanetMLError(f"widths must be positive integers, got {widths}")
    return [int(w) for w in widths]


def overlap_targets(label, widths):
    """Fraction of each causal window inside an event: the regression target of :class:`NguyenCNN`.

    Parameters
    ----------
    label : array-like, shape (steps,) or (n_windows, steps)
        0/1 (or bool, or soft) per-sample labels, e.g. ``icme_label``.
    widths : sequence of int
        Window widths in samples.

    Returns
    -------
    numpy.ndarray
        Float64 of shape ``(n_widths, steps)`` (or ``(n_windows, n_widths,
        steps)``): for width ``w`` and step ``t`` the mean of ``label`` over
        ``[t - w + 1, t]``; NaN where that window starts before the sequence
        (``t < w - 1``) or holds a NaN label.

    Examples
    --------
    >>> overlap_targets([0, 1, 1, 0], widths=[2])
    array([[nan, 0.5, 1. , 0.5]])
    """
    label = np.asarray(label, dtype=np.float64)
    widths = _check_widths(widths)
    if label.ndim not in (1, 2):
        raise PlanetMLError(f"label must have shape (steps,) or (n_windows, steps), got {label.shape}")
    out = np.full(label.shape[:-1] + (len(widths), label.shape[-1]), np.nan)
    for row, width in enumerate(widths):
        if width <= label.shape[-1]:
            out[..., row, width - 1:] = sliding_window_view(label, width, axis=-1).mean(axis=-1)
    return out


def overlaps_to_probability(overlaps, widths):
    """Per-sample ICME score: mean predicted overlap of all windows that contain the sample.

    Each overlap ``overlaps[i, t]`` describes the window ``[t - w_i + 1, t]``;
    it is spread back onto the samples it covers. For a sample ``s`` and a
    width ``w`` the windows containing it end at ``s .. s + w - 1``; their
    mean overlap is taken (ignoring NaN, e.g. incomplete windows at the start),
    then the widths are averaged with equal weight. For perfect overlaps the
    score is above 0.5 exactly inside the events when events and the gaps
    between them are at least as long as the longest width, so
    ``score > 0.5`` recovers the label mask; shorter events are damped.

    Parameters
    ----------
    overlaps : array-like, shape (n_widths, steps)
        Predicted window overlaps in [0, 1], e.g. :class:`NguyenCNN`'s
        output for one long sequence.
    widths : sequence of int
        The window width of each row, in samples.

    Returns
    -------
    numpy.ndarray
        Float64 scores ``(steps,)`` in [0, 1]; NaN where no width has a finite overlap.

    Examples
    --------
    >>> label = np.r_[np.zeros(6), np.ones(8), np.zeros(6)]
    >>> score = overlaps_to_probability(overlap_targets(label, [2, 4]), [2, 4])
    >>> bool(((score > 0.5) == (label == 1)).all())
    True
    """
    overlaps = np.asarray(overlaps, dtype=np.float64)
    widths = _check_widths(widths)
    if overlaps.ndim != 2 or overlaps.shape[0] != len(widths):
        raise PlanetMLError(f"overlaps must have shape ({len(widths)}, steps) for {len(widths)} widths, "
                            f"got {overlaps.shape}")
    finite = np.isfinite(overlaps)
    sums = np.cumsum(np.where(finite, overlaps, 0.0), axis=1)
    counts = np.cumsum(finite, axis=1)
    steps = overlaps.shape[1]
    total, n_widths = np.zeros(steps), np.zeros(steps)
    for row, width in enumerate(widths):
        window_sum, window_count = _forward_window(sums[row], width), _forward_window(counts[row], width)
        covered = window_count > 0
        total[covered] += window_sum[covered] / window_count[covered]
        n_widths += covered
    with np.errstate(invalid="ignore"):
        return np.where(n_widths > 0, total / n_widths, np.nan)


def _forward_window(cumulative, width):
    """Sums over ``[s, s + width - 1]`` (clipped at the end) from a cumulative sum, for every ``s``."""
    padded = np.concatenate([[0], cumulative])
    steps = len(cumulative)
    end = np.minimum(np.arange(steps) + width, steps)
    return padded[end] - padded[:steps]
