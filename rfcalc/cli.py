"""The ``rfcalc`` command: thin argument parsing over the library; bad input -> one message, exit 2.

    rfcalc "c3,c3,p2" [--input 32x32x3] [--head seed] [--json] [--symbolic] [--set k=3]
    rfcalc model.keras | keras:ResNet50 [--layer NAME] [--identity NAME]
    rfcalc explain SPEC [--lang en|ja] [--at i,j]
    rfcalc compare SPEC SPEC ... [--json]
    rfcalc probe SPEC|MODEL [...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

from . import argtypes
from .render import show
from .sources import is_model_source
from .errors import RFError, error_lines

# optional packages and the extra that installs each
EXTRAS = {"tensorflow": "tf", "keras": "tf", "numpy": "tf", "matplotlib": "tf", "PIL": "tf", "h5py": "tf"}

EPILOG = """\
spec language (docs/dsl.md):
  c3          Conv2D 3x3, stride 1, 'same', 32 filters, ReLU    c7s2-64/valid  options
  c3x1        non-square kernel        d2 dilation            -64 filters       /valid /same
  p2  p3s2    MaxPooling2D              a2  AveragePooling2D   p2/same
  dw3  sep3-64  bn  gap  gmp  flat  fc20  fc10/softmax         zp1  crop1
  c3*3 == c3,c3,c3     (c3,c3,p2)*2     symbols: c{k}*{n}  (c3,p2)*{n}  c3-{C}
examples:
  rfcalc "c3,c3,p2" --head seed        the notebook's model2, with its totals
  rfcalc explain "c3,c3" --lang ja     B2-2-2, worked out
  rfcalc compare c7 "c3*3"             same 7x7 field, 49 vs 27 weights
  rfcalc "(c3,p2)*{n}" --symbolic      closed forms
  rfcalc keras:ResNet50 --input 224x224x3
"""


def _common(p: argparse.ArgumentParser, head: bool = True):
    p.add_argument("--input", metavar="HxWxC|LxC|DxHxWxC", type=argtypes.shape, default=None,
                   help="input shape (default 32x32x3, CIFAR-10; for a model, its own input)")
    if head:
        p.add_argument("--head", metavar="seed|SPEC", default=None,
                       help="append a head: 'seed' = the notebook's Flatten, Dense(20), Dense(10, softmax)")
    p.add_argument("--set", metavar="NAME=N", type=argtypes.binding, action="append", default=[],
                   help="bind a symbol of the spec, as in --set k=3 (repeatable)")


def main_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rfcalc", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Receptive field, output shapes, parameters and MACs of a CNN, layer by layer. "
                    "Also: rfcalc explain | compare | probe (each with --help).")
    p.add_argument("spec", help='a layer spec such as "c3,c3,p2", a .keras/.h5/.onnx file, or keras:ResNet50')
    _common(p)
    p.add_argument("--json", action="store_true", help="print Analysis.to_dict() as JSON")
    p.add_argument("--symbolic", action="store_true", help="sympy closed forms for RF, jump, size, params")
    p.add_argument("--layer", metavar="NAME", help="show one layer's field (e.g. conv2d_1)")
    p.add_argument("--all", action="store_true", help="print every layer of a long network (default: 200 at most)")
    p.add_argument("--identity", metavar="NAME", action="append", default=[],
                   help="(models) treat this unknown layer as identity (repeatable)")
    return p


def explain_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rfcalc explain",
                                description="The worked receptive-field derivation, layer by layer (B2-2-2).")
    p.add_argument("spec")
    _common(p)
    p.add_argument("--lang", choices=("en", "ja"), default="en", help="language (ja: 日本語)")
    p.add_argument("--at", metavar="ROW,COL", type=argtypes.pixel, help="the input rows and columns of this output pixel")
    return p


def compare_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rfcalc compare",
                                description="Specs side by side: RF, jump, output shape, params, MACs, "
                                            "with ratios to the first.")
    p.add_argument("specs", nargs="+", metavar="SPEC")
    _common(p)
    p.add_argument("--json", action="store_true")
    return p


def probe_parser() -> argparse.ArgumentParser:
    from . import probe_cli
    p = argparse.ArgumentParser(prog="rfcalc probe",
                                description="Measure receptive fields with gradients (needs TensorFlow): "
                                            "a structural probe that checks the analysis, or the "
                                            "effective receptive field (--erf).")
    probe_cli.add_arguments(p)
    return p


def _emit_json(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _spec_options(args) -> tuple:
    """``(input_shape, head, symbols)`` for analysing a spec: CIFAR-10's 32x32x3 unless --input says."""
    return args.input or (32, 32, 3), args.head, dict(args.set) or None


def _analyze(args):
    from .analysis import analyze
    spec = args.spec
    if is_model_source(spec):  # a missing model file fails in analyze_source, as a file
        from .sources import analyze_source  # the adapter loads only here: a plain spec skips it
        return analyze_source(spec, input_shape=args.input, identity=tuple(args.identity))
    if args.identity:
        raise RFError("--identity names layers of a Keras model; a spec has none to treat as identity")
    return analyze(spec, *_spec_options(args))


def run_main(argv) -> int:
    args = main_parser().parse_args(argv)
    if args.symbolic:
        from .analysis import with_head
        from .symbolic import closed_forms
        if args.set:
            raise RFError("--symbolic keeps the symbols; drop --set, or drop --symbolic for numbers")
        cf = closed_forms(with_head(args.spec, args.head, len(args.input) - 1 if args.input else 2), args.input)
        if args.json:
            _emit_json(cf.to_dict())
        else:
            show(cf)
        return 0
    analysis = _analyze(args)
    if args.layer:
        row = analysis.row(args.layer)
        if args.json:
            _emit_json(row.to_dict())
        else:
            from .render import layer_text
            show(layer_text(analysis, row))
        return 0
    if args.json:
        _emit_json(analysis.to_dict())
    else:
        from .render import table
        show(table(analysis, max_rows=None if args.all else 200))
    return 0


def run_explain(argv) -> int:
    args = explain_parser().parse_args(argv)
    from .analysis import analyze
    from .explain import explain
    analysis = analyze(args.spec, *_spec_options(args))
    print(str(explain(analysis, lang=args.lang, at=args.at)))
    return 0


def run_compare(argv) -> int:
    args = compare_parser().parse_args(argv)
    from .compare import compare
    result = compare(args.specs, *_spec_options(args))
    if args.json:
        _emit_json(result.to_dict())
    else:
        show(result)
    return 0


def run_probe(argv) -> int:
    args = probe_parser().parse_args(argv)
    from . import probe_cli
    return probe_cli.run(args)


def main(argv=None) -> int:
    """Entry point of the ``rfcalc`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up lines say nothing to our users
    runners = {"explain": run_explain, "compare": run_compare, "probe": run_probe}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            if argv and argv[0] in runners:
                code = runners[argv[0]](argv[1:])
            else:
                code = run_main(argv)
        for w in caught:
            if type(w.message).__module__.startswith("rfcalc"):  # ours only; TF's chatter stays hidden
                sys.stderr.write(f"rfcalc: warning: {w.message}\n")
        return code
    except RFError as err:
        sys.stderr.write(error_lines("rfcalc", err))
        return 2
    except ModuleNotFoundError as err:
        extra = EXTRAS.get((err.name or "").partition(".")[0])
        if extra is None:
            raise
        sys.stderr.write(f"rfcalc: error: this needs {err.name}, which is not installed: "
                         f"pip install 'rfcalc[{extra}]'\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("rfcalc: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
