"""RepLKNet's high-contribution area ratios against the exact ERF of linear all-ones conv stacks, the
bootstrap standard errors, and early stopping (TensorFlow gradients and onnxruntime differences).

The oracle: a stack of n all-ones k x k convs (no bias, no activation) has, per axis, the n-fold
convolution of a length-k box as its ERF (integer counts, computed here with numpy.convolve), whose
standard deviation is Luo et al.'s sqrt(n(k^2 - 1)/12); the area ratio for t is found by growing
centred squares over the exact integer map with Fractions, as RepLKNet's ``get_rectangle`` does.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from rfcalc.runs.erf_stats import AREA_THRESHOLDS, MAX_SAMPLES, MIN_SAMPLES

CASES = [(3, 4, 33), (5, 3, 31), (3, 10, 41)]  # (k, n, input side): odd output, centred unit


def exact(k, n, size):
    """The exact ERF map (integers), its area ratios and sides, and sigma, independently of rfcalc."""
    line = np.ones(1, dtype=np.int64)
    for _ in range(n):
        line = np.convolve(line, np.ones(k, dtype=np.int64))
    field = n * (k - 1) + 1
    lo = (size - field) // 2
    full = np.zeros(size, dtype=np.int64)
    full[lo : lo + field] = line
    heat = np.outer(full, full)
    total, c = int(heat.sum()), size // 2
    ratios, sides = {}, {}
    for t in AREA_THRESHOLDS:
        for i in range(c + 1):
            if Fraction(int(heat[c - i : c + i + 1, c - i : c + i + 1].sum()), total) >= Fraction(t).limit_denominator(
                100
            ):
                sides[t], ratios[t] = 2 * i + 1, Fraction((2 * i + 1) ** 2, size * size)
                break
    return heat, ratios, sides, (n * (k * k - 1) / 12) ** 0.5


def _check(r, k, n, size):
    heat, ratios, sides, sigma = exact(k, n, size)
    assert np.allclose(r.heatmap, heat / heat.sum(), atol=1e-6)
    for t in AREA_THRESHOLDS:
        assert abs(r.area_ratio[t] - float(ratios[t])) <= 0.01 * float(ratios[t]), (t, r.area_ratio, ratios)
        assert r.area_sides[t] == sides[t]
        assert r.area_ratio_se[t] == 0.0  # a linear net: every sample's map is the same
    assert all(abs(s - sigma) <= 0.01 * sigma for s in r.sigma)
    assert r.samples == MIN_SAMPLES and r.stopping.startswith("stable after")  # stops at the first check


def test_the_oracle_has_no_ties_at_the_thresholds():
    """A square holding exactly t would make >= and RepLKNet's > disagree: the cases avoid that."""
    for k, n, size in CASES:
        heat, ratios, sides, _ = exact(k, n, size)
        c, total = size // 2, heat.sum()
        for t, s in sides.items():
            h = s // 2
            assert heat[c - h : c + h + 1, c - h : c + h + 1].sum() != t * total


@pytest.mark.tf
@pytest.mark.parametrize("k,n,size", CASES)
def test_area_ratios_of_all_ones_stacks_tf(k, n, size):
    import keras

    from rfcalc.runs.effective_rf import erf

    layers = [keras.layers.Conv2D(1, k, use_bias=False, kernel_initializer="ones") for _ in range(n)]
    model = keras.Sequential([keras.Input((size, size, 1)), *layers])
    _check(erf(model), k, n, size)


@pytest.mark.parametrize("k,n,size", CASES[:2])
def test_area_ratios_of_all_ones_stacks_onnxruntime(k, n, size):
    pytest.importorskip("onnxruntime")
    from onnx import helper, numpy_helper
    from onnxfix import model

    from rfcalc.runs.onnx_erf import erf_onnx

    nodes, inits, prev = [], [], "x"
    for i in range(n):
        out = "y" if i == n - 1 else f"a{i}"
        nodes.append(helper.make_node("Conv", [prev, f"w{i}"], [out], name=f"c{i}", kernel_shape=[k, k]))
        inits.append(numpy_helper.from_array(np.ones((1, 1, k, k), np.float32), f"w{i}"))
        prev = out
    _check(erf_onnx(model(nodes, inits, shape=(1, 1, size, size))), k, n, size)


@pytest.mark.tf
def test_a_noisy_relu_net_draws_more_than_the_minimum_and_reports_errors():
    import keras

    from rfcalc.runs.effective_rf import erf

    keras.utils.set_random_seed(0)
    convs = [keras.layers.Conv2D(4, 3, activation="relu") for _ in range(6)]
    net = keras.Sequential([keras.Input((41, 41, 1)), *convs])
    r = erf(net)  # after 8 samples some error is above 2%: it draws on
    assert MIN_SAMPLES < r.samples <= MAX_SAMPLES and r.source.startswith(f"{r.samples} random")
    forced = erf(net, samples=5)
    assert forced.samples == 5 and forced.stopping == "forced"
    d = r.to_dict()
    assert set(d["area_ratio"]) == {"20%", "30%", "50%", "99%"} and "se" in d["area_ratio"]["99%"]


def test_bootstrap_standard_errors_match_the_spread_of_independent_replicates():
    """The oracle: the standard deviation of the area ratio over 60 independent sets of 32 noisy maps."""
    from rfcalc.runs.erf_stats import area_ratios, pixel_counts, ring_masses, standard_errors

    rng = np.random.default_rng(1)
    centre, shape = (Fraction(10), Fraction(10)), (21, 21)
    counts = pixel_counts(shape, centre)
    profile = np.exp(-((np.arange(21) - 10) ** 2) / 60)[None, :, None]

    def draw():
        return ring_masses(rng.exponential(size=(32,) + shape) ** 2 * profile, centre)

    spread = np.std([area_ratios(draw().sum(0), counts, shape)[0.5] for _ in range(60)], ddof=1)
    assert spread > 0.03
    for _ in range(3):
        se = standard_errors(draw(), counts, shape, (0.5,))[1][0.5]
        assert abs(se - spread) <= 0.5 * spread, (se, spread)
