"""``report(spec_or_analysis)``: one self-contained interactive HTML page of a network's receptive fields.

Inline CSS and JS (``report.css``, ``report.js`` next to this module), images as data URIs, a
Content-Security-Policy that forbids every request but ``data:`` images: the page opens from
``file://`` with no network. The numbers come from ``data.py``; the page only indexes them.
In Jupyter a ``Report`` shows itself inline (``_repr_html_``, in an iframe).

>>> r = report("c3,c3,p2")
>>> MARKER in r.html and "http://" not in r.html.replace("http://www.w3.org/2000/svg", "")
True
"""

from __future__ import annotations

import html as _html
import json
import os
import tempfile
from dataclasses import dataclass
from importlib import resources

from ..analysis import Analysis, analyze
from ..errors import RFError
from .chart import growth_svg
from .data import payload
from .text import TEXT

MARKER = '<meta name="generator" content="rfcalc report">'
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


@dataclass(frozen=True, repr=False)
class Report:
    """The page (``html``), the analysis it shows and notes on the input (an image resized, ...)."""

    html: str
    analysis: Analysis
    notes: tuple = ()

    def save(self, path, force: bool = False) -> str:
        """Write the page to ``path`` atomically; refuses to replace a file that is not an rfcalc report."""
        return write(path, self.html, force)

    def _repr_html_(self) -> str:
        doc = _html.escape(self.html, quote=True)
        return (
            f'<iframe srcdoc="{doc}" style="width:100%;height:1100px;border:1px solid #ccc" '
            f'title="rfcalc report"></iframe>'
        )

    def __repr__(self) -> str:
        return f"Report({self.analysis.spec!r}, {len(self.html.encode()):,} bytes)"

    __str__ = __repr__


def _table(data: dict) -> str:
    esc = _html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in data["headers"])
    body = []
    for i, row in enumerate(data["layers"]):
        cls = (
            ["spatial" if row["spatial"] else "flat"]
            + (["warn"] if "misaligned" in row["flags"] else [])
            + (["unproductive"] if row.get("unproductive") else [])
        )
        body.append(
            f'<tr data-layer="{esc(row["name"])}" data-index="{i}" class="{" ".join(cls)}">'
            + "".join(f"<td>{esc(c)}</td>" for c in row["cells"])
            + "</tr>"
        )
    return f'<table id="layers" tabindex="0"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def build_html(analysis: Analysis, lang: str = "en", image=None, erf=None, notes=()) -> str:
    """The page's HTML: ``image`` is ``(data URI, label)`` or None, ``erf`` a list from ``erf_data``."""
    if lang not in TEXT:
        raise RFError(f"lang must be one of {', '.join(TEXT)}. Received: lang={lang!r}")
    esc = _html.escape
    data = payload(analysis, lang)
    data["erf"] = [{k: v for k, v in e.items() if k != "uri"} for e in erf or ()]  # the images go in <img>
    ui = data["T"]
    shape = "x".join(str(v) for v in analysis.input_shape)
    # no '<' at all inside the script element: '</script' and '<!--' in a layer name cannot end or bend it
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    img = f'<img id="input-image" alt="{esc(image[1])}" src="{image[0]}" hidden>' if image else ""
    heat = "".join(
        f'<img id="erf-image-{i}" alt="ERF {esc(e["layer"])}" src="{e["uri"]}" hidden>' for i, e in enumerate(erf or ())
    )
    erf_section = ""
    if erf:
        rows = "".join(
            f"<tr><td>{esc(ui['erf_for'].format(unit=tuple(e['unit']), layer=e['layer'], source=ui['erf_random'].format(n=e['samples'])))}"
            f"</td>"
            + "".join(f"<td>{v}</td>" for v in e["sides"].values())
            + "".join(f"<td>{a:.4f} ± {e['area_se'][k]:.4f}</td>" for k, a in e.get("area", {}).items())
            + "</tr>"
            for e in erf
        )
        head = "".join(f"<th>{esc(k)}</th>" for k in erf[0]["sides"])
        head += "".join(f"<th>{esc(ui['erf_area_head'].format(t=k))}</th>" for k in erf[0].get("area", {}))
        erf_section = (
            f'<section id="erf"><h2>{esc(ui["erf"])}</h2><p>{esc(ui["erf_sides"])}</p><p>{esc(ui["erf_area"])}</p>'
            f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{rows}</tbody></table>"
            f'<button id="erf-show" type="button">{esc(ui["erf_show"])}</button></section>'
        )
    erf_key = (  # the heatmap's colours (image.heat_uri): shown while a unit with an ERF is drawn
        f'<li id="erf-legend" hidden>{esc(ui["erf_scale"])} <span class="erf-lo">0</span>'
        f'<span class="erfbar"></span><span class="erf-hi">{esc(ui["erf_max"])}</span></li>'
        if erf
        else ""
    )
    note = "".join(f'<p class="note">{esc(n)}</p>' for n in notes)
    return f"""<!DOCTYPE html>
<!-- rfcalc report: generated by rfcalc; rfcalc report -o overwrites only files carrying this marker -->
<html lang="{lang}"><head><meta charset="utf-8">{MARKER}
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(ui["title"])}: {esc(analysis.spec)}</title>
<style>{_asset("report.css")}</style></head>
<body><header><h1>{esc(ui["title"])}</h1><p class="spec"><code>{esc(analysis.spec)}</code> &middot; {esc(ui["input"])} {shape}
{"" if image else "&middot; " + esc(ui["grid"])}</p>{note}<p class="help">{esc(ui["pick"])}</p></header>
<main><section id="viewer"><div class="panes">
<figure><figcaption>{esc(ui["input"])} {shape}{" &middot; " + esc(image[1]) if image else ""}</figcaption>
<canvas id="input-canvas" width="440" height="440"></canvas>
<div class="zoom" title="{esc(ui["zoom"])}"><button id="zoom-out" type="button" aria-label="{esc(ui["zoom"])} -">&minus;</button>
<span id="zoom-level">1&times;</span><button id="zoom-in" type="button" aria-label="{esc(ui["zoom"])} +">+</button></div></figure>
<figure><figcaption id="out-caption"></figcaption><canvas id="output-canvas" width="320" height="320" tabindex="0"></canvas></figure>
</div>
<div id="field" aria-live="polite"></div>
<ul class="legend"><li><span class="sw field"></span>{esc(ui["legend_field"])}</li><li><span class="sw pad"></span>{esc(ui["legend_pad"])}</li>
<li><span class="sw dot"></span>{esc(ui["legend_centres"])}</li><li><span class="sw hole"></span>{esc(ui["holes"])}</li>{erf_key}</ul>
</section>{erf_section}
<section><h2>{esc(ui["growth"])}</h2>{growth_svg(analysis, ui["input_size"], ui["depth"], ui["rf"], band=ui["band"], border=ui["border"])}</section>
<section><h2>{esc(ui["layers"])}</h2>{_table(data)}
<p class="footer">{"<br>".join(esc(line) for line in data["footer"])}</p></section></main>
{img}{heat}
<script type="application/json" id="rfdata">{blob}</script>
<script>{_asset("report.js")}</script>
</body></html>
"""


def erf_layers(analysis, most: int = 8) -> list[str]:
    """The spatial layers whose centre unit gets an ERF: all of them, or ``most`` evenly spaced ones ending with the last.

    >>> erf_layers(analyze("c3*20"), most=3)
    ['conv2d', 'conv2d_10', 'conv2d_19']
    """
    names = [r.name for r in analysis.layers if r.spatial]
    if len(names) <= most:
        return names
    return list(dict.fromkeys(names[round(i * (len(names) - 1) / (most - 1))] for i in range(most)))


def erf_data(source, analysis, samples=None, most: int = 8) -> list[dict]:
    """The ERF of the centre unit of each of ``erf_layers(analysis)``, for the page (TensorFlow; an ONNX model: onnxruntime)."""
    from ..runs.effective_rf import erf
    from ..runs.probe_model import is_source
    from ..sources import is_onnx_model
    from .image import heat_uri

    if isinstance(source, str) and is_source(source) and not is_onnx_model(source):
        from ..frameworks.keras import load_model_source

        source = load_model_source(source, analysis.input_shape)  # built or loaded once, not once per layer
    out = []
    for name in erf_layers(analysis, most):
        r = erf(source, input_shape=analysis.input_shape, layer=name, samples=samples)
        out.append(
            {
                "layer": r.layer,
                "unit": list(r.unit),
                "samples": r.samples,
                "uri": heat_uri(r.heatmap),
                "sides": {f"{round(f * 100)}%": s for f, s in r.sides.items()},
                "area": {f"{round(t * 100)}%": round(a, 4) for t, a in r.area_ratio.items()},
                "area_se": {f"{round(t * 100)}%": round(e, 4) for t, e in r.area_ratio_se.items()},
            }
        )
    return out


def report(analysis_or_spec, input_shape=(32, 32, 3), image=None, erf=False, lang="en", head=None) -> Report:
    """The interactive report of a spec, an ``Analysis`` or a Keras model (shown inline in Jupyter).

    ``image``: a file, ``cifar10:N``, ``fashion_mnist:N`` or an array (resized to the input);
    ``erf=True`` adds the effective receptive field of the centre unit of each spatial layer (at most 8,
    evenly spaced, ending with the last; TensorFlow, or onnxruntime for an ONNX model);
    ``erf=model_or_spec`` probes that instead of what was analysed.

    >>> report("c3,c3", lang="ja").html.count('lang="ja"')
    1
    """
    source = analysis_or_spec
    if isinstance(source, Analysis):
        a = source
        source = None if any(r.inputs for r in a.layers) else tuple(r.layer for r in a.layers)
    elif isinstance(source, (str, tuple, list)):
        a = analyze(source, input_shape, head)
        if head:
            from ..analysis import with_head

            source = with_head(source, head)
    else:  # a Keras model
        from ..frameworks.keras import from_keras

        a = from_keras(source)
    notes, pic = [], None
    if image is not None:
        from .image import image_uri

        if len(a.input_shape) != 3:
            raise RFError(f"an image is drawn under a 2-D input (HxWxC). Received: input {a.input_shape}")
        uri, label, note = image_uri(image, *a.input_shape[:2])
        pic = (uri, label)
        notes += [note] if note else []
    heat = None
    if erf is not False and erf is not None:
        source = source if erf is True else erf
        if source is None:
            raise RFError("the ERF needs the spec or the model itself, not the analysis of a graph: pass erf=model")
        heat = erf_data(source, a)
    return Report(build_html(a, lang, pic, heat, notes), a, tuple(notes))


def is_report(path) -> bool:
    """Whether the file at ``path`` carries the rfcalc report marker in its first 4 KiB."""
    try:
        with open(path, "rb") as f:
            return MARKER.encode() in f.read(4096)
    except OSError:
        return False


def check_target(path, force: bool = False) -> str:
    """Refuse, before any work, a path that cannot take the report: a folder, a missing or read-only folder,
    or an existing file that is not an rfcalc report (unless ``force``). Returns the folder."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"a report path is a str or os.PathLike. Received: {type(path).__name__}")
    path = os.fspath(path)
    if not isinstance(path, str) or not path.strip():
        raise RFError(f"a report path is a file name such as report.html. Received: {path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise RFError(f"cannot write the report to {path}: it is a directory")
    if not os.path.isdir(folder):
        raise RFError(f"cannot write the report to {path}: no such directory {folder}")
    if not os.access(folder, os.W_OK):
        raise RFError(f"cannot write the report to {path}: the directory {folder} is not writable")
    if os.path.exists(path) and not force and not is_report(path):
        raise RFError(f"{path} exists and is not an rfcalc report; refusing to overwrite it (--force does)")
    return folder


def write(path, text: str, force: bool = False) -> str:
    """Write ``text`` to ``path`` through a temporary file and a rename; never replaces a non-report unless ``force``."""
    folder = check_target(path, force)
    path = os.fspath(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".rfcalc-report-", suffix=".tmp", dir=folder)
    except OSError as err:
        raise RFError(f"cannot write the report to {path}: {err.strerror or err}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # as open() would have made it
        os.replace(tmp, path)
    except OSError as err:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise RFError(f"cannot write the report to {path}: {err.strerror or err}") from None
    return path
