"""ONNX ops that keep every spatial position's support: unary activations and norms over channels.

One list for the two places that need it: the reader passes these through with the field unchanged
(``onnx_ops.PASS_THROUGH``), and the onnxruntime probe's linear copy replaces them by Identity
(``runs.onnx_probe.LINEARISED``). Each adds the few ops only it treats that way.

>>> "Relu" in POINTWISE and "Conv" not in POINTWISE
True
"""

POINTWISE = frozenset(
    {
        "Relu",
        "LeakyRelu",
        "Sigmoid",
        "HardSigmoid",
        "HardSwish",
        "Tanh",
        "Elu",
        "Selu",
        "Celu",
        "Softplus",
        "Softsign",
        "Gelu",
        "Erf",
        "Exp",
        "Log",
        "Neg",
        "Abs",
        "Sqrt",
        "Reciprocal",
        "Floor",
        "Ceil",
        "Round",
        "Sign",
        "Mish",
        "Clip",
        "ThresholdedRelu",
        "Shrink",
        "PRelu",
        "InstanceNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "LpNormalization",
        "Pow",
    }
)
