"""Exact per-axis formulas: sizes, TensorFlow padding, receptive-field steps, parameters, MACs.

Everything here is integer or ``Fraction`` arithmetic on one spatial axis at a time; the
formulas also accept sympy expressions (``//`` is floor), which ``symbolic`` relies on.
Conventions and references: docs/arithmetic.md.

>>> effective_kernel(3, 2), output_size(32, 3, 2, "same"), same_padding(32, 3, 2)
(5, 16, (0, 1))
"""

from __future__ import annotations

from fractions import Fraction


def effective_kernel(k, d=1):
    """Extent of a dilated kernel: ``d·(k−1)+1``.

    >>> effective_kernel(3, 1), effective_kernel(3, 4)
    (3, 9)
    """
    return d * (k - 1) + 1


def ceil_div(a, b):
    """Ceiling of ``a/b`` with integer ops only.

    >>> ceil_div(7, 2), ceil_div(8, 2)
    (4, 4)
    """
    return -(-a // b)


def output_size(n, k_eff, s, padding):
    """Output length of a window ``k_eff`` with stride ``s`` over ``n`` (Keras: 'valid' floors, 'same' ceils).

    May be zero or negative for 'valid' when ``n < k_eff``; callers turn that into a ``ShapeError``.

    >>> output_size(32, 3, 1, "valid"), output_size(5, 2, 2, "same"), output_size(5, 2, 2, "valid")
    (30, 3, 2)
    """
    if padding == "same":
        return ceil_div(n, s)
    return (n - k_eff) // s + 1


def same_padding(n, k_eff, s):
    """TensorFlow's 'same' padding ``(before, after)``: the odd pixel goes after (bottom/right).

    It depends on ``n`` when ``s > 1``: a 3x3 stride-2 conv pads (1, 1) on 33 pixels, (0, 1) on 32.

    >>> same_padding(33, 3, 2), same_padding(32, 3, 2), same_padding(32, 2, 1)
    ((1, 1), (0, 1), (0, 1))
    """
    total = max((ceil_div(n, s) - 1) * s + k_eff - n, 0)
    return total // 2, total - total // 2


def window_padding(n, k_eff, s, padding):
    """``(before, after)`` padding a windowed layer applies: TF 'same' rule, zeros for 'valid',
    ``k_eff − 1`` before for 'causal' (Keras Conv1D), or an explicit ``(before, after)`` pair.

    >>> window_padding(32, 3, 1, "same"), window_padding(32, 3, 1, "valid"), window_padding(32, 5, 1, "causal")
    ((1, 1), (0, 0), (4, 0))
    """
    if padding == "same":
        return same_padding(n, k_eff, s)
    if padding == "causal":
        return k_eff - 1, 0
    if isinstance(padding, tuple):
        return padding
    return 0, 0


def padded_output_size(n, k_eff, s, before, after):
    """Output length of a window over ``n`` pixels padded by ``before`` and ``after``.

    >>> padded_output_size(16000, 2, 1, 1, 0), padded_output_size(5, 3, 2, 1, 1)
    (16000, 3)
    """
    return (n + before + after - k_eff) // s + 1


def transpose_output(n, k_eff, s, padding, output_padding=None):
    """``(size, before, after)`` of a transposed conv over ``n`` units (Keras' deconv_output_length;
    TensorFlow's placement: ``before`` is the 'same' padding of the forward conv over the output).

    Output unit ``u`` reads input ``i`` when ``i·s − before + t·d = u``; ``after`` is what the full
    output ``(n−1)·s + k_eff`` loses at the end (negative: zeros appended).

    >>> transpose_output(16, 3, 2, "same"), transpose_output(16, 3, 2, "valid"), transpose_output(4, 1, 2, "valid")
    ((32, 0, 1), (33, 0, 0), (8, 0, -1))
    """
    full = (n - 1) * s + k_eff
    if isinstance(padding, tuple):
        before, after = padding
        return full - before - after + (output_padding or 0), before, after - (output_padding or 0)
    if output_padding is None:
        size = n * s + max(k_eff - s, 0) if padding == "valid" else n * s
    else:
        size = full - (2 * (k_eff // 2) if padding == "same" else 0) + output_padding
    before = same_padding(size, k_eff, s)[0] if padding == "same" else 0
    return size, before, full - before - size


def rf_step(rf, jump, start, k_eff, s, pad_before):
    """One layer of the receptive-field recurrence (Araujo et al. 2019, eqs. 1-3).

    ``rf' = rf + (k_eff−1)·jump``, ``jump' = jump·s``, ``start' = start + ((k_eff−1)/2 − pad_before)·jump``.
    ``start`` is the centre, in input pixels, of the field of output unit 0 (pixel i is centred at i).

    >>> rf_step(3, 1, Fraction(0), 3, 1, 1)
    (5, 1, Fraction(0, 1))
    >>> rf_step(5, 1, Fraction(0), 2, 2, 0)
    (6, 2, Fraction(1, 2))
    """
    return rf + (k_eff - 1) * jump, jump * s, start + Fraction((k_eff - 1 - 2 * pad_before) * jump, 2)


def conv_params(kh, kw, c_in, filters, use_bias=True):
    """Conv2D weights plus biases.

    >>> conv_params(3, 3, 3, 32)
    896
    """
    return kh * kw * c_in * filters + (filters if use_bias else 0)


def depthwise_params(kh, kw, c_in, depth_multiplier=1, use_bias=True):
    """DepthwiseConv2D: one ``kh×kw`` kernel per input channel and multiplier.

    >>> depthwise_params(3, 3, 32)
    320
    """
    return kh * kw * c_in * depth_multiplier + (c_in * depth_multiplier if use_bias else 0)


def separable_params(kh, kw, c_in, filters, depth_multiplier=1, use_bias=True):
    """SeparableConv2D: depthwise kernels (no bias) then a 1x1 pointwise conv with bias.

    >>> separable_params(3, 3, 32, 64)
    2400
    """
    return kh * kw * c_in * depth_multiplier + c_in * depth_multiplier * filters + (filters if use_bias else 0)


def dense_params(n_in, units, use_bias=True):
    """Dense weights plus biases.

    >>> dense_params(8192, 20)
    163860
    """
    return n_in * units + (units if use_bias else 0)


def batchnorm_params(channels):
    """BatchNormalization: ``(trainable, non_trainable)`` = gamma+beta, moving mean+variance.

    >>> batchnorm_params(32)
    (64, 64)
    """
    return 2 * channels, 2 * channels


def conv_macs(out_h, out_w, kh, kw, c_in, filters):
    """Multiply-accumulates of a Conv2D (bias adds not counted).

    >>> conv_macs(32, 32, 3, 3, 3, 32)
    884736
    """
    return out_h * out_w * kh * kw * c_in * filters


def depthwise_macs(out_h, out_w, kh, kw, c_in, depth_multiplier=1):
    """Multiply-accumulates of a DepthwiseConv2D.

    >>> depthwise_macs(16, 16, 3, 3, 32)
    73728
    """
    return out_h * out_w * kh * kw * c_in * depth_multiplier


def separable_macs(out_h, out_w, kh, kw, c_in, filters, depth_multiplier=1):
    """Multiply-accumulates of a SeparableConv2D: depthwise part plus pointwise part.

    >>> separable_macs(16, 16, 3, 3, 32, 64)
    598016
    """
    mid = c_in * depth_multiplier
    return out_h * out_w * (kh * kw * mid + mid * filters)


def dense_macs(positions, n_in, units):
    """Multiply-accumulates of a Dense applied at ``positions`` places (1 after Flatten).

    >>> dense_macs(1, 8192, 20)
    163840
    """
    return positions * n_in * units
