"""Parameters of an ONNX file: which stored float tensors are weights, and how a reading layer counts them.

The count is the one users compare with their framework's summary: every layer's weights as the
network has them, counted **per reading layer and input slot** (through Identity aliases and the
chains that compute a weight at run time, such as weight standardisation), so a tensor an exporter
stores once for several layers counts at each (``Analysis.stored_params`` counts each distinct
tensor once). BatchNormalization's running mean and variance (inputs 3 and 4) are non-trainable.

Which float initializers are weights (their ``role``):

* A file that records torch's export kinds (torch's dynamo exporter writes, on the value_info of
  each initializer that came from the module, ``pkg.torch.export.graph_signature.InputSpec.kind``,
  and the whole signature in the graph's metadata):
    - ``PARAMETER``: a weight (``param``), counted wherever a layer reads it;
    - ``BUFFER``: not a parameter (``buffer``): it counts only where a BatchNormalization reads it
      as running statistics (non-trainable, as torch's own BatchNorm buffers); a blur filter, an
      attention mask or a position index counts nothing;
    - ``CONSTANT_TENSOR`` (and any other kind): a constant (``const``), never counted;
    - no kind, and onnxscript's ``pkg.onnxscript.optimizer.folded_from`` names the tensors it was
      constant-folded from: a weight where one of them is a module ``PARAMETER`` (a gain folded with
      its scale, a transposed Linear weight, a position table gathered by its index), a buffer where
      they name only buffers, else an exporter constant (the zero bias torch's ``batch_norm``
      without bias gets, GroupNorm's unit scales, ViT's attention scale): ``const``;
    - no kind and no ``folded_from`` (a conv weight the optimiser rewrote while folding a
      BatchNorm into it, a Python scalar such as NF-ResNet's activation gain): ``loose``: it counts
      only where a layer reads it as weight or bias (``LAYER_OPS``), through layout ops alone
      (``onnx_fold.LAYOUT_OPS``), never where an elementwise op reads it.
* Any other file (legacy exports, ``from_torch``, other exporters): every float initializer is a
  weight (``param``), a scalar included.

In every file an op that reads a float input as a setting counts none (``NO_PARAMS``: Clip
bounds, Pad values, Resize scales, Where fills, Div divisors), and a tensor that counts nowhere is not in ``stored_params``.

>>> roles_of({"w": None, "s": None}, [("w", (("pkg.torch.export.graph_signature.InputSpec.kind", "PARAMETER"),))], ())
{'w': 'param', 's': 'loose'}
"""

from __future__ import annotations

import ast
import re

from .onnx_fold import Folded

KIND = "pkg.torch.export.graph_signature.InputSpec.kind"
FOLDED_FROM = "pkg.onnxscript.optimizer.folded_from"
SIGNATURE = "pkg.torch.export.ExportedProgram.graph_signature"
NO_PARAMS = frozenset(
    {"Clip", "Pad", "Resize", "Upsample", "Dropout", "Where", "Div"}
)  # float inputs: settings, fills, divisors
LAYER_OPS = frozenset(  # ops whose float inputs past the first are a layer's weight and bias
    {
        "Conv",
        "ConvTranspose",
        "Gemm",
        "MatMul",
        "Einsum",
        "BatchNormalization",
        "InstanceNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "RMSNormalization",
        "PRelu",
    }
)
_ENTRY = re.compile(r"^\s*\S+: (\w+) target='([^']*)'", re.M)


def _folded_from(text: str) -> list | None:
    try:
        names = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return names if isinstance(names, list) and all(isinstance(n, str) for n in names) else None


def roles_of(inits, value_meta, graph_meta) -> dict:
    """The role of each float initializer name in ``inits`` (see the module docstring).

    ``value_meta``: (name, metadata pairs) of the graph's value_info entries; ``graph_meta``: the
    graph's metadata pairs.
    """
    meta = {name: dict(pairs) for name, pairs in value_meta if pairs}
    kinds: dict = {}
    for key, text in graph_meta:
        if key == SIGNATURE:
            kinds.update({target: kind for kind, target in _ENTRY.findall(text)})
    kinds.update({name: m[KIND] for name, m in meta.items() if KIND in m})
    if not kinds:  # the file records no kinds: every float initializer is a weight
        return dict.fromkeys(inits, "param")
    roles = {}
    for name in inits:
        m = meta.get(name, {})
        kind = m.get(KIND)
        if kind is None and FOLDED_FROM in m:
            sources = _folded_from(m[FOLDED_FROM])
            if sources is not None:
                named = {kinds.get(s) for s in sources}
                kind = "PARAMETER" if "PARAMETER" in named else "BUFFER" if "BUFFER" in named else "CONSTANT"
        roles[name] = {None: "loose", "PARAMETER": "param", "BUFFER": "buffer"}.get(kind, "const")
    return roles


def layer_params(op: str, ins, stored: dict) -> tuple[int, int]:
    """Trainable and non-trainable counts of one reading layer: the stored tensors behind each of its
    weight inputs (``Folded`` values with ``sources``), each once per input slot; ``stored`` collects
    each counted tensor once (``Analysis.stored_params``)."""
    trainable = frozen = 0
    if op in NO_PARAMS:
        return 0, 0
    for i, f in enumerate(ins):
        if not (isinstance(f, Folded) and f.weight):
            continue
        stats = op == "BatchNormalization" and i >= 3  # running mean and variance
        for name, n, role in f.sources:
            if role == "const" or (role == "buffer" and not stats) or (role == "loose" and op not in LAYER_OPS):
                continue
            stored[name] = n
            if stats:
                frozen += n
            else:
                trainable += n
    return trainable, frozen


__all__ = ["roles_of", "layer_params", "NO_PARAMS", "LAYER_OPS"]
