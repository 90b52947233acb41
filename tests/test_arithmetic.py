"""Published numbers and hand-worked cases for the arithmetic and for whole analyses.

Sources:
* the seed notebook's ``model.summary()`` totals (model1 164,966 and model2 174,214 parameters);
* google-research/receptive_field, receptive_field/RECEPTIVE_FIELD_TABLE.md (TF-Slim models at
  224 and 321 pixels: receptive field, effective stride, effective padding per end-point);
* Keras Applications VGG16 parameter counts (14,714,688 without the top, 138,357,544 with it);
* the TensorFlow docs, "Notes on padding" (tf.nn): the SAME formula written with ``in % stride``,
  the 5-pixel example (2 before, 3 after) and the conv2d example (5 rows, filter 3, stride 2 -> 3).
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from rfcalc import analyze, arithmetic as A

# ---- TensorFlow's own statements about SAME and VALID -----------------------------------------


def tf_doc_same_total(n, k, s):
    """The total SAME padding as the tf.nn docs write it (modulo form, not the ceil form)."""
    return max(k - s, 0) if n % s == 0 else max(k - n % s, 0)


def tf_doc_valid_out(n, k, s):
    """VALID output length as the tf.nn docs write it: ceil((n - k + 1) / s)."""
    return -(-(n - k + 1) // s)


TF_DOC_SAME = {
    # (n, k, s): ((before, after), out)
    "docs conv2d example, rows: 5, filter 3, stride 2": ((5, 3, 2), ((1, 1), 3)),
    "docs conv2d example, cols: 2, filter 2, stride 1": ((2, 2, 1), ((0, 1), 2)),
    "docs: a total of 5 pads 2 before and 3 after": ((10, 6, 1), ((2, 3), 10)),
    "even input, stride 2: the one pixel goes after": ((32, 3, 2), ((0, 1), 16)),
    "odd input, stride 2: one on each side": ((33, 3, 2), ((1, 1), 17)),
    "13 wide, filter 6, stride 5 (the SAME/VALID picture)": ((13, 6, 5), ((1, 2), 3)),
    "stride longer than the filter needs no padding": ((10, 1, 3), ((0, 0), 4)),
}


@pytest.mark.parametrize("args, expected", TF_DOC_SAME.values(), ids=TF_DOC_SAME.keys())
def test_same_padding_examples_from_the_tensorflow_docs(args, expected):
    n, k, s = args
    assert (A.same_padding(n, k, s), A.output_size(n, k, s, "same")) == expected


def test_same_and_valid_agree_with_the_tensorflow_doc_formulas_exhaustively():
    for n in range(1, 40):
        for k in range(1, 12):
            for s in range(1, 7):
                total = tf_doc_same_total(n, k, s)
                assert A.same_padding(n, k, s) == (total // 2, total - total // 2), (n, k, s)
                assert A.output_size(n, k, s, "same") == -(-n // s)
                if n >= k:
                    assert A.output_size(n, k, s, "valid") == tf_doc_valid_out(n, k, s), (n, k, s)


def test_the_13_pixel_picture_valid_drops_the_last_two_columns():
    # "VALID only ever drops the right-most columns": 13 wide, filter 6, stride 5 -> 2 windows, 12 and 13 dropped
    a = analyze("c6s5/valid", (13, 13, 1))
    assert a.layers[0].output_shape[:2] == (2, 2)
    assert "drops" in a.layers[0].flags


# ---- small formulas, worked by hand ---------------------------------------------------------

HAND = {
    "effective kernel, dilation 1": (A.effective_kernel(3, 1), 3),
    "effective kernel, dilation 2": (A.effective_kernel(3, 2), 5),
    "effective kernel, 7 dilated by 4": (A.effective_kernel(7, 4), 25),
    "ceil 7/2": (A.ceil_div(7, 2), 4),
    "ceil 8/2": (A.ceil_div(8, 2), 4),
    "valid 32, 3": (A.output_size(32, 3, 1, "valid"), 30),
    "valid 224, 11, stride 4": (A.output_size(224, 11, 4, "valid"), 54),
    "valid window wider than input": (A.output_size(5, 7, 1, "valid") < 1, True),
    "padding for valid is zero": (A.window_padding(32, 3, 2, "valid"), (0, 0)),
    "rf step, 3x3 'same' after 3x3": (A.rf_step(3, 1, Fraction(0), 3, 1, 1), (5, 1, Fraction(0))),
    "rf step, 2x2/2 pool": (A.rf_step(5, 1, Fraction(0), 2, 2, 0), (6, 2, Fraction(1, 2))),
    "rf step at jump 4, pad 1": (A.rf_step(10, 4, Fraction(3, 2), 3, 1, 1), (18, 4, Fraction(3, 2))),
    "conv params 3x3x3x32": (A.conv_params(3, 3, 3, 32), 27 * 32 + 32),
    "conv params without bias": (A.conv_params(3, 3, 32, 64, False), 9 * 32 * 64),
    "depthwise params 3x3 on 32": (A.depthwise_params(3, 3, 32), 9 * 32 + 32),
    "depthwise params, multiplier 2": (A.depthwise_params(3, 3, 8, 2), 9 * 16 + 16),
    "separable params 3x3, 32 -> 64": (A.separable_params(3, 3, 32, 64), 9 * 32 + 32 * 64 + 64),
    "dense params 8192 -> 20": (A.dense_params(8192, 20), 163_860),
    "batchnorm 4C, 2C frozen": (A.batchnorm_params(32), (64, 64)),
    "conv MACs, first notebook layer": (A.conv_macs(32, 32, 3, 3, 3, 32), 1024 * 27 * 32),
    "separable MACs": (A.separable_macs(16, 16, 3, 3, 32, 64), 256 * (9 * 32 + 32 * 64)),
}


@pytest.mark.parametrize("got, expected", HAND.values(), ids=HAND.keys())
def test_hand_worked_formulas(got, expected):
    assert got == expected


# ---- the seed notebook: model.summary() totals ----------------------------------------------

NOTEBOOK = {
    # conv layers -> Keras summary per-layer params, total (CIFAR-10, 32x32x3; head Flatten, Dense(20), Dense(10))
    "model1: conv, pool": ("c3,p2", [896, 0, 0, 163_860, 210], 164_966),
    "model2: conv, conv, pool": ("c3,c3,p2", [896, 9_248, 0, 0, 163_860, 210], 174_214),
    "model3: three convs, pool": ("c3*3,p2", [896, 9_248, 9_248, 0, 0, 163_860, 210], 183_462),
}


@pytest.mark.parametrize("spec, per_layer, total", NOTEBOOK.values(), ids=NOTEBOOK.keys())
def test_notebook_models_match_keras_summary(spec, per_layer, total):
    a = analyze(spec, (32, 32, 3), head="seed")
    assert [r.params for r in a.layers] == per_layer
    assert a.total_params == total
    assert a.output_shape == (10,)


def test_notebook_model2_shapes_fields_and_macs_by_hand():
    a = analyze("c3,c3,p2", (32, 32, 3), head="seed")
    assert [r.output_shape for r in a.layers] == [(32, 32, 32), (32, 32, 32), (16, 16, 32), (8192,), (20,), (10,)]
    assert [r.rf for r in a.layers[:3]] == [(3, 3), (5, 5), (6, 6)]
    assert [r.jump for r in a.layers[:3]] == [(1, 1), (1, 1), (2, 2)]
    # pool unit 0 covers pixels -2..3: centre 1/2, effective padding 2
    assert a.layers[2].start == (Fraction(1, 2), Fraction(1, 2))
    assert a.layers[2].eff_pad == (2, 2)
    macs = 32 * 32 * 27 * 32 + 32 * 32 * 9 * 32 * 32 + 8192 * 20 + 20 * 10
    assert a.total_macs == macs == 10_485_960


def test_batchnorm_has_4c_params_half_frozen():
    a = analyze("c3-16,bn", (8, 8, 3))
    bn = a.layers[1]
    assert (bn.params, bn.trainable_params, bn.non_trainable_params) == (64, 32, 32)
    assert a.non_trainable_params == 32


# ---- google-research/receptive_field: TF-Slim end-points ----------------------------------------

VGG16 = "c3-64*2,p2,c3-128*2,p2,c3-256*3,p2,c3-512*3,p2,c3-512*3,p2"
VGG16_TABLE = {  # end-point: (layer index in VGG16, rf, effective stride, effective padding) at 224 and 321
    "conv1_1": (0, 3, 1, 1),
    "pool1": (2, 6, 2, 2),
    "conv2_1": (3, 10, 2, 4),
    "pool2": (5, 16, 4, 6),
    "conv3_1": (6, 24, 4, 10),
    "conv3_2": (7, 32, 4, 14),
    "pool3": (9, 44, 8, 18),
    "conv4_1": (10, 60, 8, 26),
    "conv4_2": (11, 76, 8, 34),
    "pool4": (13, 100, 16, 42),
    "conv5_1": (14, 132, 16, 58),
    "conv5_2": (15, 164, 16, 74),
    "pool5": (17, 212, 32, 90),
}


@pytest.mark.parametrize("size", [224, 321])
@pytest.mark.parametrize("endpoint", VGG16_TABLE)
def test_vgg16_endpoints_match_the_published_table(endpoint, size):
    index, rf, stride, pad = VGG16_TABLE[endpoint]
    row = analyze(VGG16, (size, size, 3)).layers[index]
    assert (row.rf, row.jump, row.eff_pad) == ((rf, rf), (stride, stride), (pad, pad))


def test_vgg16_whole_stack_numbers():
    a = analyze(VGG16, "224x224x3")
    assert (a.rf, a.jump, a.output_shape) == ((212, 212), (32, 32), (7, 7, 512))
    assert a.total_params == 14_714_688  # keras.applications.VGG16(include_top=False)
    stages = (
        [(224, 3, 64), (224, 64, 64), (112, 64, 128), (112, 128, 128)]
        + [(56, 128, 256)]
        + [(56, 256, 256)] * 2
        + [(28, 256, 512)]
        + [(28, 512, 512)] * 2
        + [(14, 512, 512)] * 3
    )
    assert a.total_macs == sum(h * h * 9 * c_in * c_out for h, c_in, c_out in stages)
    top = analyze(VGG16 + ",flat,fc4096/relu,fc4096/relu,fc1000/softmax", "224x224x3")
    assert top.total_params == 138_357_544  # keras.applications.VGG16()


ALEXNET_V2 = "c11s4-64/valid,p3s2,c5-192,p3s2,c3-384,c3-384,c3-256,p3s2"
ALEXNET_TABLE = {
    "conv1": (0, 11, 4, 0),
    "pool1": (1, 19, 8, 0),
    "conv2": (2, 51, 8, 16),
    "conv3": (4, 99, 16, 32),
    "conv4": (5, 131, 16, 48),
    "conv5": (6, 163, 16, 64),
    "pool5": (7, 195, 32, 64),
}


@pytest.mark.parametrize("endpoint", ALEXNET_TABLE)
def test_alexnet_v2_endpoints_match_the_published_table(endpoint):
    index, rf, stride, pad = ALEXNET_TABLE[endpoint]
    row = analyze(ALEXNET_V2, (224, 224, 3)).layers[index]
    assert (row.rf[0], row.jump[0], row.eff_pad[0]) == (rf, stride, pad)


# MobileNet v1: stride-2 'same' layers, so the effective padding depends on the input size
MOBILENET_V1 = "c3s2,dw3,c1,dw3s2,c1,dw3,c1,dw3s2,c1,dw3,c1,dw3s2,c1,(dw3,c1)*5,dw3s2,c1,dw3,c1"
MOBILENET_RF = [3, 7, 11, 19, 27, 43, 59, 91, 123, 155, 187, 219, 251, 315]
MOBILENET_STRIDE = [2, 2, 4, 4, 8, 8, 16, 16, 16, 16, 16, 16, 32, 32]
MOBILENET_PAD = {
    224: [0, 2, 2, 6, 6, 14, 14, 30, 46, 62, 78, 94, 94, 126],
    321: [1, 3, 5, 9, 13, 21, 29, 45, 61, 77, 93, 109, 125, 157],
}


@pytest.mark.parametrize("size", [224, 321])
def test_mobilenet_v1_effective_padding_depends_on_input_size(size):
    a = analyze(MOBILENET_V1, (size, size, 3))
    endpoints = [a.layers[0]] + [a.layers[2 * i] for i in range(1, 14)]  # Conv2d_0, Conv2d_i_pointwise
    assert [r.rf[0] for r in endpoints] == MOBILENET_RF
    assert [r.jump[0] for r in endpoints] == MOBILENET_STRIDE
    assert [r.eff_pad[0] for r in endpoints] == MOBILENET_PAD[size]


# ResNet v1 50, block1: conv2d_same pads explicitly (zp3, then 'valid'); pool1 is 3x3/2 'same'
RESNET_BLOCK1 = "zp3,c7s2-64/valid,p3s2/same,c1-64,c3-64,c1-256,c1-64,c3-64,c1-256,c1-64,zp1,c3s2-64/valid,c1-256"


@pytest.mark.parametrize("size, pad", [(224, 15), (321, 17)])
def test_resnet_v1_50_block1_matches_the_published_table(size, pad):
    a = analyze(RESNET_BLOCK1, (size, size, 3))
    assert (a.rf, a.jump, a.layers[-1].eff_pad) == ((35, 35), (8, 8), (pad, pad))


def test_centre_formula_from_the_receptive_field_readme():
    # center = -eff_pad + feature * eff_stride + (rf - 1) / 2, feature 0 -> our start
    a = analyze(VGG16, (224, 224, 3))
    assert a.start == (Fraction(-90) + Fraction(211, 2),) * 2
