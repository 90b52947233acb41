"""The ``rfcalc`` command: thin argument parsing over the library; bad input -> one message, exit 2.

    rfcalc "c3,c3,p2" [--input 32x32x3] [--head seed] [--json] [--symbolic] [--set k=3]
    rfcalc model.keras | keras:ResNet50 | model2 [--layer NAME] [--identity NAME]
    rfcalc SPEC|MODEL [--wide] [--format table|md|csv] [--rows GLOB|I:J] [--depth N] [--batch-size N] [--lang ja]
    rfcalc explain SPEC|MODEL [--lang en|ja] [--at i,j]
    rfcalc compare SPEC|MODEL SPEC|MODEL ... [--json] [--wide] [--lang ja]
    rfcalc probe SPEC|MODEL [...]
    rfcalc design --rf 32 [...]
    rfcalc report SPEC|MODEL [-o report.html] [--image PATH|cifar10:N] [--erf] [--lang en|ja]

Tables fit COLUMNS, else the terminal, else 80 columns (docs/summary.md); --lang defaults to the locale.
A target is a spec, a Keras model (file or ``keras:Name``) or a preset of the course notebook
(``model1``, ``model2``: rfcalc.presets). Options that would do nothing for it are refused.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings

from . import __version__, argtypes, lang, tfquiet
from .errors import RFError, error_lines, missing_extra
from .presets import PRESETS, lookup
from .render import show
from .sources import check_source, is_model_source

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
  rfcalc report "c3,c3,p2" -o rf.html   interactive page: hover a unit, see its field
  rfcalc model1                         a preset: the notebook's model1 (presets: %s)
""" % ", ".join(PRESETS)


TARGET_HELP = 'a layer spec such as "c3,c3,p2", a .keras/.h5/.onnx file, keras:ResNet50, or a preset (model1, model2)'


def _common(p: argparse.ArgumentParser, head: bool = True):
    argtypes.add_input(
        p, "input shape, channels last (default 32x32x3, CIFAR-10; for a model, its own input)", "HxWxC|LxC|DxHxWxC"
    )
    if head:
        p.add_argument(
            "--head",
            metavar="seed|SPEC",
            type=argtypes.nonempty,
            default=None,
            help="append a head: 'seed' = the notebook's Flatten, Dense(20), Dense(10, softmax)",
        )
    p.add_argument(
        "--set",
        metavar="NAME=N",
        type=argtypes.binding,
        action="append",
        default=[],
        help="bind a symbol of the spec, as in --set k=3 (repeatable)",
    )


def _wide(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--wide",
        action="store_true",
        help="every column at full width (default: fit the terminal, COLUMNS, else 80 columns)",
    )


def main_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rfcalc",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
        description="Receptive field, output shapes, parameters and MACs of a CNN, layer by layer. "
        "Also: rfcalc explain | compare | probe | report | design (each with --help).",
    )
    p.add_argument("spec", metavar="SPEC|MODEL", help=TARGET_HELP)
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _common(p)
    p.add_argument("--json", action="store_true", help="print Analysis.to_dict() as JSON")
    p.add_argument(
        "--symbolic",
        action="store_true",
        help="sympy closed forms for RF, jump, size, params (--json: as text, and as sympy.srepr that "
        "rfcalc.symbolic.read_back reads exactly)",
    )
    p.add_argument("--layer", metavar="NAME", type=argtypes.nonempty, help="show one layer's field (e.g. conv2d_1)")
    p.add_argument("--all", action="store_true", help="print every layer of a long network (default: 200 at most)")
    p.add_argument(
        "--format",
        choices=("table", "md", "csv"),
        default="table",
        help="table (fitted to the terminal), md (GitHub Markdown, every column) or csv (plain numbers)",
    )
    p.add_argument(
        "--rows",
        metavar="PATTERN|I:J",
        type=argtypes.nonempty,
        default=None,
        help="show only these rows: a name glob ('conv*', 'layer1.*') or an index range (3:10)",
    )
    p.add_argument(
        "--depth",
        metavar="N",
        type=argtypes.positive,
        default=None,
        help="sum rows nested deeper than N (Keras outer/inner, torch layer1.0.conv1) into their module",
    )
    p.add_argument(
        "--batch-size",
        metavar="N",
        type=argtypes.positive,
        default=1,
        help="batch size of the memory estimate under the table (default 1)",
    )
    _wide(p)
    lang.add_argument(p)
    p.add_argument(
        "--identity",
        metavar="NAME",
        action="append",
        default=[],
        help="(models) treat this unknown layer as identity (repeatable)",
    )
    return p


def explain_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rfcalc explain", description="The worked receptive-field derivation, layer by layer (B2-2-2)."
    )
    p.add_argument("spec", metavar="SPEC|MODEL", help=TARGET_HELP)
    _common(p)
    lang.add_argument(p)
    p.add_argument(
        "--at", metavar="ROW,COL", type=argtypes.pixel, help="the input rows and columns of this output pixel"
    )
    return p


def compare_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rfcalc compare",
        description="Specs side by side: RF, jump, output shape, params, MACs, with ratios to the first.",
    )
    p.add_argument("specs", nargs="+", metavar="SPEC|MODEL", help=TARGET_HELP)
    _common(p)
    p.add_argument(
        "--first-layer",
        action="store_true",
        help="compare as the first layer on the image (3 channels in); default: inside a network, "
        "every conv reads as many channels as the first spec's first conv writes (C->C)",
    )
    p.add_argument("--json", action="store_true")
    _wide(p)
    lang.add_argument(p)
    return p


def probe_parser() -> argparse.ArgumentParser:
    from .runs import cli as probe_cli

    p = argparse.ArgumentParser(
        prog="rfcalc probe",
        description="Measure receptive fields with gradients (needs TensorFlow): "
        "a structural probe that checks the analysis, or the "
        "effective receptive field (--erf).",
    )
    probe_cli.add_arguments(p)
    return p


def report_parser() -> argparse.ArgumentParser:
    from .htmlreport import cli as report_cli

    p = argparse.ArgumentParser(
        prog="rfcalc report",
        description="One self-contained interactive HTML page (works offline): the "
        "layer table, each unit's exact field on the input, rf growth.",
    )
    report_cli.add_arguments(p)
    return p


def _emit_json(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _analyze_target(target: str, args, identity=(), alone=True):
    """The Analysis of one spec, preset or model, refusing options that would do nothing for it.

    ``alone=False`` (compare): the spec options apply to the specs among several targets and are
    checked over all of them (``_check_spec_options``), so a model beside them just skips them.
    """
    from .analysis import analyze

    check_source(target)  # a JPEG, a .pt, a folder: say so, rather than parse it as a spec
    if is_model_source(target):  # a missing model file fails in analyze_source, as a file
        for flag, value in (("--head", getattr(args, "head", None)), ("--set", args.set)):
            if value and alone:
                raise RFError(
                    f"{flag} applies to specs; a model has its own layers and no symbols. "
                    f"Received: {flag} with {target}"
                )
        from .frameworks.dispatch import analyze_source  # the adapter loads only here: a plain spec skips it

        return analyze_source(target, input_shape=args.input, identity=tuple(identity))
    if identity:
        raise RFError("--identity names layers of a Keras model; a spec has none to treat as identity")
    preset = lookup(target)
    if preset and getattr(args, "head", None):
        raise RFError(
            f"{target.strip()} is a preset with the notebook's head ({preset[1]}) already; --head would "
            f'replace it: give the layers as a spec instead, as in rfcalc "{preset[0]}" --head {args.head}'
        )
    spec, head = preset or (target, None)
    head = getattr(args, "head", None) or head
    if args.set and alone:
        _check_bindings([(spec, head)], dict(args.set))
    return analyze(spec, args.input or (32, 32, 3), head, dict(args.set) or None)


def _check_bindings(specs, values) -> None:
    """--set for a symbol no spec has would do nothing: refuse it (the library lets extra values pass)."""
    from .analysis import with_head
    from .layers import symbols_of

    have = [s for spec, head in specs for s in symbols_of(with_head(spec, head))]
    for name, value in values.items():
        if name not in have:
            known = ", ".join("{" + s + "}" for s in dict.fromkeys(have)) or "none"
            which = "the spec has no" if len(specs) == 1 else "no spec has a"
            raise RFError(f"--set {name}={value}: {which} symbol {{{name}}} (symbols: {known})")


def _check_spec_options(targets, args) -> None:
    """For several targets: --head and --set must apply to at least one spec among them."""
    specs = [lookup(t) or (t, None) for t in targets if not is_model_source(t)]
    if not specs:
        for flag, value in (("--head", args.head), ("--set", args.set)):
            if value:
                raise RFError(f"{flag} applies to specs; these are all models. Received: {flag}")
    if args.set:
        _check_bindings([(spec, args.head or head) for spec, head in specs], dict(args.set))


def run_main(argv) -> int:
    args = main_parser().parse_args(argv)
    argtypes.settle_input(args)
    if args.symbolic:
        _refuse_table_options(args)
        from .analysis import with_head
        from .symbolic import closed_forms

        if is_model_source(args.spec):
            raise RFError(f"--symbolic reads the symbols of a spec; a model has none. Received: {args.spec}")
        for flag, value in (
            ("--set", args.set),
            ("--layer", args.layer),
            ("--identity", args.identity),
            ("--all", args.all),
        ):
            if value:
                raise RFError(
                    f"--symbolic gives the closed forms of the whole spec, with its symbols; "
                    f"drop {flag}, or drop --symbolic for numbers"
                )
        spec, head = lookup(args.spec) or (args.spec, None)
        cf = closed_forms(with_head(spec, args.head or head, len(args.input) - 1 if args.input else 2), args.input)
        if args.json:
            _emit_json(cf.to_dict())
        else:
            show(cf)
        return 0
    if args.all and (args.json or args.layer):
        raise RFError(
            f"--all shows every row of the table; {'--json' if args.json else '--layer'} prints no "
            "table (--json has every layer already): drop --all"
        )
    _refuse_table_options(args)
    language = lang.pick(args.lang)
    analysis = _analyze_target(args.spec, args, args.identity)
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
    elif args.format == "csv":
        sys.stdout.write(analysis.to_csv(rows=args.rows))
    else:
        options = dict(
            lang=language,
            rows=args.rows,
            depth=args.depth,
            batch=args.batch_size,
            max_rows=None if args.all or args.format == "md" else 200,
        )
        if args.format == "md":
            sys.stdout.write(analysis.to_markdown(**options) + "\n")
        else:
            show(analysis.__grid__(**options), wide=args.wide)
    return 0


def _refuse_table_options(args) -> None:
    """Options of the table that --json, --layer or --symbolic would ignore are refused, never dropped."""
    other = "--json" if args.json else "--layer" if args.layer else "--symbolic" if args.symbolic else None
    given = [
        (flag, v)
        for flag, v in (
            ("--format", args.format != "table"),
            ("--rows", args.rows),
            ("--depth", args.depth),
            ("--batch-size", args.batch_size != 1),
            ("--wide", args.wide),
        )
        if v
    ]
    if other and given:
        raise RFError(f"{given[0][0]} shapes the table; {other} prints no table: drop {given[0][0]}")
    if args.format == "csv":
        for flag, v in (("--depth", args.depth), ("--batch-size", args.batch_size != 1), ("--wide", args.wide)):
            if v:
                raise RFError(
                    f"{flag} shapes the printed table; --format csv writes every row's own numbers: drop {flag}"
                )
    if args.format == "md" and args.wide:
        raise RFError("--format md has every column already: drop --wide")


def run_explain(argv) -> int:
    args = explain_parser().parse_args(argv)
    argtypes.settle_input(args)
    from .explanation import explain

    analysis = _analyze_target(args.spec, args)
    print(str(explain(analysis, lang=lang.pick(args.lang), at=args.at)))
    return 0


def run_compare(argv) -> int:
    args = compare_parser().parse_args(argv)
    argtypes.settle_input(args)
    from .comparison import compare

    _check_spec_options(args.specs, args)
    language = lang.pick(args.lang)
    if args.json and args.wide:
        raise RFError("--wide shapes the printed table; --json prints no table: drop --wide")
    mode = _compare_mode(args)
    result = compare([_analyze_target(spec, args, alone=False) for spec in args.specs], mode=mode)
    if args.json:
        _emit_json(result.to_dict())
    else:
        show(result.__grid__(lang=language), wide=args.wide)
    return 0


def _compare_mode(args) -> str:
    """Plain specs without --input or --head compare inside a network (C->C): ``args.input`` becomes
    32x32xC, C the first conv's filters; --first-layer keeps the image's 3 channels. Whole networks
    (presets, models, a --head) and a given --input are compared on that input as it is."""
    specs_only = not any(is_model_source(t) or lookup(t) for t in args.specs) and not args.head
    if args.first_layer:
        if args.input is not None or not specs_only:
            raise RFError(
                "--first-layer reads the specs as first layers on a 32x32x3 image; "
                + (
                    "--input already gives the input: drop one"
                    if args.input is not None
                    else "presets, models and --head are whole networks, compared on their input: drop it"
                )
            )
        return "first-layer"
    if args.input is not None or not specs_only:
        return "input"
    from .analysis import analyze
    from .layers import Conv

    first = analyze(args.specs[0], (32, 32, 3), None, dict(args.set) or None)
    convs = [r for r in first.layers if isinstance(r.layer, Conv)]
    if not convs:
        return "input"
    args.input = (32, 32, convs[0].output_shape[-1])
    return "inside"


def run_probe(argv) -> int:
    args = probe_parser().parse_args(argv)
    argtypes.settle_input(args)
    from .runs import cli as probe_cli

    return probe_cli.run(args)


_CLI_WORDS = (  # the library speaks Python (input_shape=...); the command line has --input HxWxC
    (re.compile(r"input_shape=\(([A-Z](?:, [A-Z])*)\)"), lambda m: "--input " + m.group(1).replace(", ", "x")),
    (re.compile(r"input_shape must be \(H, W, C\)"), "--input must be HxWxC"),
    (re.compile(r"leave input_shape out"), "leave --input out"),
    (re.compile(r"Received: input_shape=\((\d+), (\d+), (\d+)\)$"), r"Received: --input \1x\2x\3"),
    (re.compile(r"refused input_shape=\((\d+), (\d+), (\d+)\)"), r"refused --input \1x\2x\3"),
)


def cli_words(message: str) -> str:
    """A library message in the command line's words: ``--input HxWxC`` where it says ``input_shape=(H, W, C)``.

    Only messages about the whole input change; a layer's own input shape stays as the library says it.

    >>> cli_words("pass input_shape=(H, W, C) or build it")
    'pass --input HxWxC or build it'
    """
    if message.startswith("rfcalc: error: layer "):
        return message
    lines = message.split("\n")
    for pattern, words in _CLI_WORDS:
        lines[0] = pattern.sub(words, lines[0])
    return "\n".join(lines)


def run_design(argv) -> int:
    from .designer import cli as design_cli

    return design_cli.main(argv)


def run_report(argv) -> int:
    args = report_parser().parse_args(argv)
    argtypes.settle_input(args)
    from .htmlreport import cli as report_cli

    return report_cli.run(args, lambda a: _analyze_target(a.spec, a, getattr(a, "identity", ())))


FULL_MERGES = 2  # misaligned-merge warnings written out in full; the rest of them in one line


def warning_lines(caught) -> list[str]:
    """rfcalc's own warnings (TF's chatter stays hidden), one line each; past the first
    ``FULL_MERGES`` misaligned merges, the others in one line that names them.

    >>> warning_lines([])
    []
    """
    ours = [w.message for w in caught if type(w.message).__module__.startswith("rfcalc")]
    merges = [m for m in ours if getattr(m, "layer", "")]
    folded = merges[FULL_MERGES:]
    lines = [str(m) for m in ours if not any(m is f for f in folded)]
    if folded:
        names = [f.layer for f in folded]
        shown = ", ".join(names if len(names) <= 8 else [*names[:6], "...", names[-1]])
        lines.append(
            f"{len(folded)} more merge layers join misaligned paths ({shown}); the table marks each 'misaligned'"
        )
    return lines


def main(argv=None) -> int:
    """Entry point of the ``rfcalc`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    tfquiet.install()  # TensorFlow's start-up lines say nothing to our users: held back if it loads
    runners = {
        "explain": run_explain,
        "compare": run_compare,
        "probe": run_probe,
        "design": run_design,
        "report": run_report,
    }
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            if argv and argv[0] in runners:
                code = runners[argv[0]](argv[1:])
            else:
                code = run_main(argv)
        for line in warning_lines(caught):
            sys.stderr.write(f"rfcalc: warning: {line}\n")
        return code
    except RFError as err:
        sys.stderr.write(cli_words(error_lines("rfcalc", err)))
        return 2
    except ModuleNotFoundError as err:
        line = missing_extra(err, "rfcalc")
        if line is None:
            raise
        sys.stderr.write(line)
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("rfcalc: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
