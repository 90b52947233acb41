"""Figures as PNG, SVG or PDF files (by the name's extension): the ERF heatmap, a unit's receptive field on an image, rf growth per layer.

matplotlib is imported inside the functions and used through ``Figure`` and its Agg canvas, never
``pyplot``, so a notebook's backend is left alone. Each function writes ``path`` and returns it.

>>> import rfcalc.runs.plots  # no matplotlib loaded yet
"""

from __future__ import annotations

from fractions import Fraction

from ..errors import RFError, ShapeError
from ..words import with_article


def _figure(width, height):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:  # pragma: no cover - depends on the install
        raise RFError(f"plots need matplotlib: pip install 'rfcalc[plot]'. Received: {err}") from None
    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


FORMATS = ("png", "svg", "pdf")


def figure_path(path) -> str:
    """``path`` as a string when a figure can be written there: a file name ending in .png, .svg or .pdf
    in a folder that exists; else ``RFError`` (checked before any work, so nothing is computed in vain).

    >>> figure_path("rf.svg")
    'rf.svg'
    """
    import os

    text = os.fspath(path) if hasattr(path, "__fspath__") else path
    if not isinstance(text, str) or not text.strip():
        raise RFError(f"a figure path is a file name such as rf.png. Received: {path!r}")
    ext = os.path.splitext(text)[1].lower().lstrip(".")
    if os.path.isdir(text) or text.endswith(("/", os.sep)):
        raise RFError(f"{text} is a folder; name the figure file, as in {os.path.join(text, 'rf.png')}")
    if ext not in FORMATS:
        raise RFError(f"figures are written as .png, .svg or .pdf files; name one of those. Received: {text!r}")
    parent = os.path.dirname(text)
    if parent and not os.path.isdir(parent):
        raise RFError(f"cannot write the figure to {text}: the folder {parent} does not exist")
    return text


def _save(fig, path) -> str:
    path = figure_path(path)
    try:
        fig.savefig(path, bbox_inches="tight", format=path.rsplit(".", 1)[1].lower())
    except (OSError, ValueError) as err:
        raise RFError(f"cannot write the figure to {path}: {err}") from None
    return path


def _square(ax, centre, side_h, side_w, **style):
    from matplotlib.patches import Rectangle

    cy, cx = (float(c) for c in centre)
    ax.add_patch(Rectangle((cx - side_w / 2, cy - side_h / 2), side_w, side_h, fill=False, **style))


def plot_erf(result, path) -> str:
    """The ERF heatmap with the theoretical field and the 50/90/99% squares, and a profile with its Gaussian.

    A 1-D ERF (a signal) is drawn as a curve over the input samples; a 3-D one as the slice
    through the unit's centre.

    >>> plot_erf(erf("c3*4", input_shape="24x24x1"), "erf.png")  # doctest: +SKIP
    'erf.png'
    """
    import numpy as np

    heat = np.asarray(result.heatmap, dtype=float)
    if heat.ndim == 1:
        return _plot_erf_curve(result, heat, path)
    title = f"ERF of {result.layer}, unit {tuple(result.unit)}\n{result.source}"
    if heat.ndim == 3:  # the depth slice through the field's centre
        depth = min(heat.shape[0] - 1, max(0, int(round(float(result.centre[0])))))
        heat = heat[depth]
        title += f"; slice at depth {depth}"
    rf = result.rf[-2:] if result.rf is not None else None
    centre = tuple(result.centre[-2:])
    fig = _figure(10, 4.4)
    ax, prof = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    h, w = heat.shape
    im = ax.imshow(heat, cmap="magma", extent=(-0.5, w - 0.5, h - 0.5, -0.5), interpolation="nearest")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of |gradient|")
    if rf is not None:
        _square(ax, centre, rf[0], rf[1], edgecolor="cyan", linewidth=2, label=f"theoretical rf {rf[0]}x{rf[1]}")
    for (frac, side), color in zip(sorted(result.sides.items()), ("#9be15d", "#ffd23f", "white")):
        _square(
            ax,
            centre,
            side,
            side,
            edgecolor=color,
            linewidth=1.2,
            linestyle="--",
            label=f"{round(frac * 100)}% of mass: {side}x{side}",
        )
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.legend(loc="upper left", fontsize=7, framealpha=0.7)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("input column")
    ax.set_ylabel("input row")
    _profile(
        prof,
        heat.sum(axis=0),
        result.centroid[-1],
        result.sigma[-1],
        centre[1],
        rf[1] if rf else None,
        "column sums of the ERF",
        "input column",
    )
    prof.set_title(f"{result.target}", fontsize=10)
    return _save(fig, path)


def _profile(ax, values, mu, sigma, centre, rf, label, xlabel):
    """Bars of one axis' share of the mass, the moment Gaussian over them and the theoretical field."""
    import numpy as np

    n = len(values)
    ax.bar(np.arange(n), values, color="#c44e52", alpha=0.75, width=1.0 if n > 60 else 0.8, label=label)
    if sigma > 0:
        xs = np.linspace(-0.5, n - 0.5, 600)
        ax.plot(
            xs,
            np.exp(-0.5 * ((xs - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi)),
            color="k",
            label=f"Gaussian, moment sigma = {sigma:.2f}",
        )
    if rf is not None:
        ax.axvspan(
            float(centre) - rf / 2, float(centre) + rf / 2, color="cyan", alpha=0.15, label=f"theoretical rf ({rf})"
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of the mass")
    ax.legend(fontsize=7)


def _plot_erf_curve(result, heat, path) -> str:
    """A 1-D ERF: the share of |gradient| per input sample, the field and the 50/90/99% segments."""
    fig = _figure(9, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    rf = result.rf[0] if result.rf is not None else None
    _profile(ax, heat, result.centroid[0], result.sigma[0], result.centre[0], rf, "share of |gradient|", "input sample")
    top = float(heat.max())
    for k, ((frac, side), color) in enumerate(zip(sorted(result.sides.items()), ("#2ca02c", "#ff7f0e", "0.3"))):
        c, y = float(result.centre[0]), top * (1.04 + 0.05 * k)
        ax.plot(
            [c - side / 2, c + side / 2],
            [y, y],
            color=color,
            linewidth=2,
            label=f"{round(frac * 100)}% of mass: {side} samples",
        )
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title(f"ERF of {result.layer}, unit {tuple(result.unit)} ({result.source})\n{result.target}", fontsize=9)
    return _save(fig, path)


MAX_PIXELS = 1 << 25  # 33.5 million pixels (5792x5792): decoded as floats that is 400 MB already


def _check_pixels(path) -> None:
    """Refuse an image file whose header declares more than ``MAX_PIXELS`` pixels, before decoding it."""
    import warnings

    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - matplotlib needs Pillow
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as im:
                w, h = im.size
    except Image.DecompressionBombError as err:
        raise ShapeError(
            f"the image {path} has more than {MAX_PIXELS:,} pixels (shrink it first). Received: {err}"
        ) from None
    except (OSError, ValueError, SyntaxError) as err:
        raise RFError(f"cannot read the image {path}: {err}") from None
    if w * h > MAX_PIXELS:
        raise ShapeError(
            f"the image {path} has {w * h:,} pixels; at most {MAX_PIXELS:,} are read "
            f"(shrink it first). Received: {w}x{h}"
        )


def _to_unit(img):
    """Pixel values into [0, 1] as an image viewer reads them: integers by their type's range (uint8 /255,
    uint16 /65535, other integers by the smallest of those that holds them), floats in [0, 1] as they are,
    floats in [0, 255] /255, other floats stretched min..max."""
    import numpy as np

    if img.dtype.kind == "b":
        return img.astype(float)
    if img.dtype.kind in "iu":
        hi = int(img.max()) if img.size else 0
        lo = int(img.min()) if img.size else 0
        scale = 255 if img.dtype.itemsize == 1 else 65535 if img.dtype == np.uint16 else None
        if scale is None and lo >= 0:
            scale = 255 if hi <= 255 else 65535 if hi <= 65535 else None
        if scale is not None and lo >= 0:
            return img.astype(float) / scale
        img = img.astype(float)
    img = np.asarray(img, dtype=float)
    if not img.size:
        return img
    lo, hi = float(img.min()), float(img.max())
    if lo >= 0 and hi <= 1:
        return img
    if lo >= 0 and hi <= 255:
        return img / 255.0
    return (img - lo) / (hi - lo or 1.0)


def read_image(image_or_path):
    """An image as HxW or HxWx3 floats in [0, 1], as an image viewer shows it: a file, ``cifar10:N``, or an array.

    8- and 16-bit integers are scaled by their range, floats in [0, 255] by 255, other floats outside [0, 1]
    stretched min..max; an alpha channel (grey+alpha, RGBA) is composited over white.

    >>> read_image([[0, 51], [255, 255]]).tolist()
    [[0.0, 0.2], [1.0, 1.0]]
    """
    import numpy as np

    if isinstance(image_or_path, str) and image_or_path.lower().startswith("cifar10:"):
        from ..cifar import load_test_image

        index = image_or_path.partition(":")[2]
        if not index.isdigit():
            raise RFError(f"write a CIFAR-10 test image as cifar10:INDEX, as in cifar10:7. Received: {image_or_path!r}")
        return load_test_image(int(index))[0]
    if isinstance(image_or_path, (str, bytes)) or hasattr(image_or_path, "__fspath__"):
        from matplotlib import image as mpimg

        _check_pixels(image_or_path)
        try:
            img = mpimg.imread(image_or_path)
        except (OSError, ValueError, SyntaxError) as err:
            raise RFError(f"cannot read the image {image_or_path}: {err}") from None
    else:
        try:
            img = np.asarray(image_or_path)
        except (TypeError, ValueError) as err:
            raise ShapeError(f"an image is an array of numbers, HxW or HxWx3. Received: {err}") from None
        if img.dtype.kind not in "biuf":
            raise ShapeError(f"an image is an array of numbers, HxW or HxWx3. Received: dtype {img.dtype}")
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 2, 3, 4)):
        raise ShapeError(f"an image must be HxW, HxWx1, HxWx2, HxWx3 or HxWx4. Received: shape {img.shape}")
    img = _to_unit(img)
    if img.ndim == 3 and img.shape[2] in (2, 4):  # grey or colour with alpha: over white, as a viewer shows it
        alpha = img[..., -1:]
        img = img[..., :-1] * alpha + (1.0 - alpha)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    return img


def _spatial_rows(analysis) -> list:
    rows = [r for r in analysis.layers if r.spatial]
    if not rows:
        raise RFError(f"{analysis.spec!r} has no spatial layer")
    return rows


def _spatial_row(analysis, layer):
    if layer is None:
        return _spatial_rows(analysis)[-1]
    row = analysis.row(layer)
    if not row.spatial:
        raise RFError(f"layer {layer!r} ({row.kind}) has no spatial output; its field is the whole input")
    return row


def plot_rf_on_image(analysis, image_or_path, unit=None, path="rf.png", layer=None) -> str:
    """Draw the receptive field of output ``unit`` (row, col; default the centre) of ``layer`` on an image.

    The image must have the analysis' input size (a 2-D input). The box is ``Row.field_of(unit)``,
    exact after upsampling; dots mark the field centres of the neighbouring units (``jump`` apart
    on average); the part of the field outside the image is zero padding.

    >>> plot_rf_on_image(analyze("c3,p2,c3"), "cat.png", unit=(8, 8), path="rf.png")  # doctest: +SKIP
    'rf.png'
    """
    if len(analysis.input_shape) != 3:
        raise ShapeError(f"a field is drawn on a 2-D image; this analysis has the input {analysis.input_shape}")
    img = read_image(image_or_path)
    h, w = analysis.input_shape[:2]
    if img.shape[:2] != (h, w):
        raise ShapeError(
            f"the image is {img.shape[0]}x{img.shape[1]} but the analysis input is {h}x{w}; "
            f"analyse with --input {img.shape[0]}x{img.shape[1]}x{analysis.input_shape[2]}"
        )
    row = _spatial_row(analysis, layer)
    oh, ow = row.output_shape[:2]
    if unit is None:
        unit = ((oh - 1) // 2, (ow - 1) // 2)
    unit = tuple(int(u) for u in unit)
    if not (0 <= unit[0] < oh and 0 <= unit[1] < ow):
        raise RFError(f"{row.name} has {oh}x{ow} output units. Received: unit={unit}")
    (top, bottom), (left, right) = row.field_of(unit)
    centre = (Fraction(top + bottom, 2), Fraction(left + right, 2))
    size = (bottom - top + 1, right - left + 1)
    fig = _figure(5.5, 5.5)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_facecolor("#e6e6e6")  # outside the image: the zero padding the field may reach into
    ax.imshow(
        img, cmap="gray" if img.ndim == 2 else None, extent=(-0.5, w - 0.5, h - 0.5, -0.5), interpolation="nearest"
    )
    _square(ax, (Fraction(h - 1, 2), Fraction(w - 1, 2)), h, w, edgecolor="0.6", linewidth=0.8, linestyle=":")
    _square(
        ax,
        centre,
        size[0],
        size[1],
        edgecolor="#ff3b30",
        linewidth=2.2,
        label=f"field {size[0]}x{size[1]} of unit {unit}",
    )
    near = [
        row.field_of((i, j))
        for i in range(max(0, unit[0] - 2), min(oh, unit[0] + 3))
        for j in range(max(0, unit[1] - 2), min(ow, unit[1] + 3))
    ]
    ax.scatter(
        [float(c[0] + c[1]) / 2 for _, c in near],
        [float(r[0] + r[1]) / 2 for r, _ in near],
        s=10,
        color="#ffcc00",
        label=f"neighbour centres, jump {row.jump[0]}x{row.jump[1]}",
        zorder=3,
    )
    ax.scatter([float(centre[1])], [float(centre[0])], s=40, color="#ff3b30", zorder=4)
    pad_y, pad_x = size[0] / 2 + 1, size[1] / 2 + 1
    ax.set_xlim(min(-0.5, float(centre[1]) - pad_x), max(w - 0.5, float(centre[1]) + pad_x))
    ax.set_ylim(max(h - 0.5, float(centre[0]) + pad_y), min(-0.5, float(centre[0]) - pad_y))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.22), fontsize=8, ncol=1)
    ax.set_title(
        f"{row.name} ({row.kind}) on {with_article(f'{h}x{w}')} input\n(grey: zero padding outside the image)",
        fontsize=10,
    )
    return _save(fig, path)


def plot_rf_growth(analysis, path) -> str:
    """Receptive field per layer (every axis) with the jump on a second axis and the input size dashed.

    >>> plot_rf_growth(analyze("c3,c3,p2,c3,c3,p2"), "growth.png")  # doctest: +SKIP
    'growth.png'
    """
    rows = _spatial_rows(analysis)
    fig = _figure(max(6, 0.45 * len(rows) + 3), 4)
    ax = fig.add_subplot(1, 1, 1)
    x = list(range(1, len(rows) + 1))
    sizes = analysis.input_shape[:-1]
    names = {1: ("samples",), 2: ("rows", "columns"), 3: ("depth", "rows", "columns")}[len(sizes)]
    styles = (("o-", "#1f77b4", "#d62728", "-"), ("s--", "#17becf", "#ff9896", "--"), ("^:", "#2ca02c", "#9467bd", ":"))
    twin = ax.twinx()
    for axis, (name, (marker, colour, jcolour, line)) in enumerate(zip(names, styles)):
        if axis and all(r.rf[axis] == r.rf[0] and r.jump[axis] == r.jump[0] for r in rows) and sizes[axis] == sizes[0]:
            continue  # the same curve as the first axis
        ax.plot(x, [r.rf[axis] for r in rows], marker, color=colour, label=f"rf ({name})")
        ax.axhline(sizes[axis], color="0.5", linestyle=":" if not axis else "-.", label=f"input {name} {sizes[axis]}")
        twin.step(
            x,
            [float(r.jump[axis]) for r in rows],
            where="mid",
            color=jcolour,
            linestyle=line,
            alpha=0.8,
            label=f"jump ({name})",
        )
    ax.set_ylabel("receptive field (pixels)")
    ax.set_xticks(x)
    ax.set_xticklabels([r.name for r in rows], rotation=60, ha="right", fontsize=7)
    twin.set_ylabel("jump (input pixels between neighbours)", color="#d62728")
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper left")
    ax.set_title(f"{analysis.spec}  on {'x'.join(str(n) for n in analysis.input_shape)}", fontsize=9)
    ax.grid(alpha=0.3)
    return _save(fig, path)
