"""rfcalc: receptive field, shape, parameter and MAC analysis for convolutional networks.

>>> from rfcalc import analyze
>>> analyze("c3,c3").rf
(5, 5)

The model adapters (``from_keras``, ``to_keras``, ``from_onnx``, ``from_torch``), the probes (``probe``,
``erf``), the sympy closed forms (``closed_forms``), the worked derivation (``explain``), the side-by-side
table (``compare``), the design search (``design``) and the interactive HTML page (``report``) load their
framework or module only when first used. No module or package is named like one of these functions
(``explanation``, ``comparison``, ``designer/``, ``htmlreport/``), so importing one never hides a function.
"""

from ._version import __version__ as __version__
from .analysis import Analysis, Row, analyze
from .dsl import format_spec, parse, parse_shape
from .errors import AlignmentError, RFError, ShapeError, SpecError, SymbolError, UnsupportedLayerError

_LAZY = {
    "from_keras": "frameworks.keras",
    "to_keras": "frameworks.keras",
    "from_onnx": "frameworks.onnx",
    "from_torch": "frameworks.torch",
    "probe": "runs.probes",
    "erf": "runs.probes",
    "closed_forms": "symbolic",
    "explain": "explanation",
    "compare": "comparison",
    "design": "designer.api",
    "report": "htmlreport.page",
}

__all__ = [
    "Analysis",
    "Row",
    "analyze",
    "parse",
    "format_spec",
    "parse_shape",
    "RFError",
    "SpecError",
    "ShapeError",
    "SymbolError",
    "UnsupportedLayerError",
    "AlignmentError",
    *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        if _LAZY[name].startswith(("frameworks.", "runs.")):
            from . import tfquiet

            tfquiet.install()  # TensorFlow's start-up noise held back (rfcalc/tfquiet.py)

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        value = globals()[name] = getattr(module, name)  # cached: later look-ups skip this hook
        return value
    raise AttributeError(f"module 'rfcalc' has no attribute {name!r}")
