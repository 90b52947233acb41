"""rfcalc: receptive field, shape, parameter and MAC analysis for convolutional networks.

>>> from rfcalc import analyze
>>> analyze("c3,c3").rf
(5, 5)

The Keras adapters and probes (``from_keras``, ``to_keras``, ``probe``, ``erf``) and the sympy
closed forms (``closed_forms``) load TensorFlow or sympy only when first used.
"""

from .analysis import Analysis, Row, analyze
from .dsl import format_spec, parse, parse_shape
from .errors import AlignmentError, RFError, ShapeError, SpecError, SymbolError, UnsupportedLayerError
# eager, not lazy: a function named like its module would be shadowed by the module once imported
# (rfcalc.explain(...) failed with "'module' object is not callable" after `import rfcalc.explain`)
from .compare import compare
from .explain import explain

__version__ = "0.1.0"

_LAZY = {
    "from_keras": "frameworks.keras",
    "to_keras": "frameworks.keras",
    "probe": "runs.probes",
    "erf": "runs.probes",
    "closed_forms": "symbolic",
}

__all__ = [
    "Analysis", "Row", "analyze", "parse", "format_spec", "parse_shape",
    "RFError", "SpecError", "ShapeError", "SymbolError", "UnsupportedLayerError", "AlignmentError",
    "compare", "explain", *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        if _LAZY[name].startswith(("frameworks.", "runs.")):
            from . import tfquiet
            tfquiet.install()  # TensorFlow's start-up noise held back (rfcalc/tfquiet.py)

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'rfcalc' has no attribute {name!r}")
