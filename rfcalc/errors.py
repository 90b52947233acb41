"""One exception family. Every error rfcalc raises on bad input is an ``RFError``.

``RFError`` subclasses ``ValueError`` so callers that already catch that keep working.
The CLI maps any ``RFError`` to one message on stderr and exit status 2.
"""

from __future__ import annotations


class RFError(ValueError):
    """Base class of every rfcalc input error."""


class SpecError(RFError):
    """A layer-spec string that does not parse; the message shows the spec with a caret."""

    def __init__(self, message: str, spec: str | None = None, pos: int | None = None, length: int = 1):
        self.reason = message
        self.spec = spec
        self.pos = pos
        self.length = length
        if spec is not None and pos is not None:
            message = f"{message}\n{caret(spec, pos, length)}"
        super().__init__(message)


class ShapeError(RFError):
    """A layer that cannot be applied to its input size (for example a 7x7 'valid' conv on 5x5)."""


class UnsupportedLayerError(RFError):
    """A Keras layer that rfcalc does not know how to analyse."""

    # set by frameworks.graph.refuse, (name, class, why, call): the walk gathers these (no default: unset elsewhere)
    refused: tuple[str, str, str, str]


class SymbolError(RFError):
    """A spec that still holds symbols ({k}, {n}) where numbers are needed, or a bad binding."""


class DataError(RFError):
    """Missing, corrupt, truncated, malicious or wrongly shaped dataset files."""


class AlignmentError(RFError):
    """Branches that merge with different jumps or centres (their fields do not line up)."""


def error_lines(prog: str, err: Exception) -> str:
    """What a command prints on stderr for a bad input: ``prog: error:`` and the message (a caret may follow).

    >>> print(error_lines("rfcalc", SpecError("unknown layer 'q3'", "c3,q3", 3, 2)), end="")
    rfcalc: error: unknown layer 'q3'
      c3,q3
         ^^
    """
    lines = str(err).splitlines() or [type(err).__name__]
    return f"{prog}: error: {lines[0]}\n" + "".join(f"{line}\n" for line in lines[1:])


def caret(spec: str, pos: int, length: int = 1) -> str:
    """Two lines: the spec (clipped around ``pos`` when long) and a caret under ``pos``.

    >>> print(caret("c3,q3,p2", 3, 2))
      c3,q3,p2
         ^^
    """
    width = 72
    lo = max(0, min(pos - width // 2, len(spec) - width))
    hi = min(len(spec), lo + width)
    shown = spec[lo:hi].replace("\n", " ").replace("\t", " ")
    prefix = "..." if lo > 0 else ""
    suffix = "..." if hi < len(spec) else ""
    marks = "^" * max(1, min(length, hi - pos))
    return f"  {prefix}{shown}{suffix}\n  {' ' * (len(prefix) + pos - lo)}{marks}"


# optional packages and the extra of pyproject.toml that installs each
EXTRAS = {
    "tensorflow": "tf",
    "keras": "tf",
    "numpy": "tf",
    "matplotlib": "tf",
    "PIL": "tf",
    "h5py": "tf",
    "onnx": "onnx",
    "onnxruntime": "onnx",
}


def missing_extra(err: ModuleNotFoundError, prog: str = "rfcalc"):
    """The one line for an optional package that is not installed, or None when it is not one of ours.

    >>> print(missing_extra(ModuleNotFoundError("No module named 'numpy'", name="numpy"), "rfcalc-train"), end="")
    rfcalc-train: error: this needs numpy, which is not installed: pip install 'rfcalc[tf]'
    """
    top = (err.name or "").partition(".")[0]
    extra = EXTRAS.get(top)
    if extra is None:
        return None
    return f"{prog}: error: this needs {top}, which is not installed: pip install 'rfcalc[{extra}]'\n"


def require(modules, what: str) -> None:
    """Raise ``ModuleNotFoundError`` (read by ``missing_extra``) for the first of ``modules`` not installed,
    before any work starts.

    >>> require(["fractions"], "exact sums")
    """
    import importlib.util

    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise ModuleNotFoundError(f"{what} needs {name}", name=name)
