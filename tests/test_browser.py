"""The report in a real browser: headless Chromium (Debian's chromium + chromium-driver) through selenium.

Layers are chosen by clicking their table row or by the keyboard (↓ in the table), units by clicking
the output grid or by the arrow keys; the highlighted field is read back from the DOM
(``#field``'s data attributes) and compared with the analysis (and, for chains, a brute-force
oracle). Every page must log no console error and make no network request.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from rfcalc import analyze
from rfcalc.htmlreport.data import unit_field
from rfcalc.htmlreport.page import report

sys.path.insert(0, str(Path(__file__).parent))
from oracle import axis_unit_deps  # noqa: E402

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("RFCALC_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("RFCALC_CHROMEDRIVER", "/usr/bin/chromedriver")


def _why_no_browser():
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install 'rfcalc[docs]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (shutil.which(path) or os.access(path, os.X_OK)):
            return f"no {path} (apt-get install chromium chromium-driver)"
    return None


def new_driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    o = Options()
    o.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1800",
        "--disable-extensions",
        "--no-first-run",
    ):
        o.add_argument(arg)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)


@pytest.fixture(scope="module")
def driver():
    why = _why_no_browser()
    if why:
        pytest.skip(why)
    d = new_driver()
    yield d
    d.quit()


def open_page(driver, tmp_path, html, name="r.html"):
    from selenium.webdriver.support.ui import WebDriverWait

    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    driver.get_log("browser")
    driver.get_log("performance")  # drop what earlier pages logged
    driver.get(path.as_uri())
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.body.dataset.ready === '1'"))
    return path


def read_field(driver) -> dict:
    return driver.execute_script("return Object.assign({}, document.getElementById('field').dataset)")


def pair(text):
    return tuple(int(v) for v in text.split(","))


def choose_by_click(driver, name):
    row = driver.find_element("css selector", f'#layers tr[data-layer="{name}"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", row)
    row.click()


def choose_next_by_keyboard(driver):
    from selenium.webdriver.common.keys import Keys

    table = driver.find_element("id", "layers")
    driver.execute_script("arguments[0].focus()", table)
    table.send_keys(Keys.ARROW_DOWN)


def click_unit(driver, unit):
    """A real mouse click on the output grid at the centre of ``unit`` (row, col)."""
    from selenium.webdriver.common.action_chains import ActionChains

    canvas = driver.find_element("id", "output-canvas")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    s, border, width, height = driver.execute_script(
        "var c = arguments[0], r = c.getBoundingClientRect();"
        "return [Number(c.dataset.scale) * c.clientWidth / c.width, c.clientLeft, r.width, r.height]",
        canvas,
    )
    x = border + (unit[1] + 0.5) * s - width / 2
    y = border + (unit[0] + 0.5) * s - height / 2
    ActionChains(driver).move_to_element_with_offset(canvas, round(x), round(y)).click().perform()


def press(driver, key):
    from selenium.webdriver.common.keys import Keys

    canvas = driver.find_element("id", "output-canvas")
    canvas.send_keys(getattr(Keys, key))


def units_of(row):
    oh, ow = row.output_shape[:2]
    return list(dict.fromkeys([(0, 0), (0, ow - 1), (oh - 1, 0), (oh - 1, ow - 1), ((oh - 1) // 2, (ow - 1) // 2)]))


def assert_clean(driver, loaded=True):
    """No console error and no request other than the page itself (file://) and its data: URIs.

    ``loaded``: a page was opened since the last call, so its own request must be in the log."""
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == [], errors
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    assert (urls or not loaded) and all(u.startswith(("file://", "data:")) for u in urls), urls
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0


# One round trip per layer for big models: the same clicks and keys, dispatched as DOM events in the page.
IN_PAGE = """
var name = arguments[0], units = arguments[1], out = [];
var c = document.getElementById('output-canvas'), f = document.getElementById('field');
document.querySelector('#layers tr[data-layer="' + name + '"]').click();
var r = c.getBoundingClientRect(), s = Number(c.dataset.scale) * c.clientWidth / c.width;
function read() { return [f.dataset.layer, f.dataset.unit, f.dataset.rows, f.dataset.cols]; }
units.forEach(function (u) {
  // mouse coordinates are whole CSS pixels: the one nearest the unit's centre
  c.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: Math.round(r.left + c.clientLeft + (u[1] + 0.5) * s),
                                           clientY: Math.round(r.top + c.clientTop + (u[0] + 0.5) * s)}));
  out.push(read());
});
['ArrowUp', 'ArrowLeft'].forEach(function (k) { c.dispatchEvent(new KeyboardEvent('keydown', {key: k, bubbles: true})); });
out.push(read());
return out;
"""


def check_in_page(driver, analysis):
    spatial = [r for r in analysis.layers if r.spatial]
    for row in spatial:
        units = units_of(row)
        got = driver.execute_script(IN_PAGE, row.name, [list(u) for u in units])
        c = units[-1]
        units.append((max(c[0] - 1, 0), max(c[1] - 1, 0)))
        for (layer, unit, rows, cols), want in zip(got, units):
            assert (layer, pair(unit)) == (row.name, want)
            assert (pair(rows), pair(cols)) == unit_field(row, want), (row.name, want)
    return 6 * len(spatial)


def check_every_layer(driver, analysis, oracle_ops=None, in_page=False):
    """Every spatial layer chosen (click, or ↓ when it follows the previous one), 5 units clicked, 2 keyed."""
    spatial = [r for r in analysis.layers if r.spatial]
    if in_page:
        assert check_in_page(driver, analysis) >= 5 * len(spatial)
        return
    checked = 0
    for k, row in enumerate(spatial):
        if k % 2 and spatial.index(row) == k:
            choose_next_by_keyboard(driver)
        else:
            choose_by_click(driver, row.name)
        assert read_field(driver)["layer"] == row.name
        for unit in units_of(row):
            click_unit(driver, unit)
            got = read_field(driver)
            assert (got["layer"], pair(got["unit"])) == (row.name, unit)
            want = unit_field(row, unit)
            assert (pair(got["rows"]), pair(got["cols"])) == want, (row.name, unit)
            if oracle_ops is not None:
                deps = [
                    axis_unit_deps(oracle_ops(analysis, row, a), analysis.input_shape[a], unit[a]) for a in range(2)
                ]
                assert want == tuple((min(d), max(d)) for d in deps)
            checked += 1
        press(driver, "ARROW_UP")
        press(driver, "ARROW_LEFT")  # from the centre unit, last clicked
        got = read_field(driver)
        c = units_of(row)[-1]
        moved = (max(c[0] - 1, 0), max(c[1] - 1, 0))
        assert pair(got["unit"]) == moved and (pair(got["rows"]), pair(got["cols"])) == unit_field(row, moved)
    assert checked >= 5 * len(spatial)


def chain_ops(analysis, row, axis):
    ops = []
    for r in analysis.layers[: row.index + 1]:
        lay = r.layer
        ops.append(
            ("win", lay.kernel[axis], lay.stride[axis], lay.dilation[axis], lay.padding)
            if hasattr(lay, "kernel")
            else ("id",)
        )
    return ops


@pytest.mark.parametrize("spec", ["c3,c3,p2", "(c3,p2)*3", "c3d2,c3s2,c5/valid"])
def test_every_layer_of_a_spec_answers_with_the_analysis_and_the_oracle(driver, tmp_path, spec):
    a = analyze(spec)
    open_page(driver, tmp_path, report(a).html)
    check_every_layer(driver, a, chain_ops)
    assert_clean(driver)


def test_japanese_page_and_image_open_clean(driver, tmp_path):
    img = [[(i * 8) % 256 for i in range(32)] for _ in range(32)]
    open_page(driver, tmp_path, report("c3d2,c3s2,c5/valid", image=[[v / 255 for v in r] for r in img], lang="ja").html)
    assert "受容野" in driver.find_element("id", "field").text
    assert_clean(driver)


def test_screenshot_is_not_blank(driver, tmp_path):
    np = pytest.importorskip("numpy")
    Image = pytest.importorskip("PIL.Image")
    open_page(driver, tmp_path, report("c3,c3,p2").html)
    canvas = driver.find_element("id", "input-canvas")
    for png in (driver.get_screenshot_as_png(), canvas.screenshot_as_png):
        px = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)
        assert px.std() > 10, "blank screenshot"
        assert len(np.unique(px.reshape(-1, 3), axis=0)) > 5
    red = np.asarray(Image.open(io.BytesIO(canvas.screenshot_as_png)).convert("RGB"), dtype=int)
    assert ((red[..., 0] > 200) & (red[..., 1] < 100)).any(), "the field's red outline is drawn"


def test_hover_shows_a_unit_and_leaving_restores_the_chosen_one(driver, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains

    a = analyze("c3,c3,p2")
    open_page(driver, tmp_path, report(a).html)
    canvas = driver.find_element("id", "output-canvas")
    ActionChains(driver).move_to_element_with_offset(canvas, -150, -150).perform()
    assert pair(read_field(driver)["unit"]) == (0, 0)
    ActionChains(driver).move_to_element_with_offset(canvas, 0, 400).perform()  # off the canvas
    assert pair(read_field(driver)["unit"]) == (7, 7)


# ---------------------------------------------------------------- Keras models (TensorFlow)


def keras_analysis(name):
    keras = pytest.importorskip("keras")
    from rfcalc import from_keras

    model = getattr(keras.applications, name)(weights=None, input_shape=(224, 224, 3))
    return from_keras(model)


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.parametrize("name", ["ResNet50", "MobileNetV2"])
def test_every_layer_of_a_keras_application_answers_with_the_analysis(driver, tmp_path, name):
    a = keras_analysis(name)
    html = report(a).html
    assert len(html.encode()) < 1_000_000
    open_page(driver, tmp_path, html)
    assert_clean(driver)
    check_every_layer(driver, a, in_page=True)
    assert_clean(driver, loaded=False)


@pytest.mark.tf
@pytest.mark.slow
def test_resnet50_opens_and_answers_a_click_within_200_ms(driver, tmp_path):
    a = keras_analysis("ResNet50")
    open_page(driver, tmp_path, report(a).html)
    best_open, best_click = 1e9, 1e9
    for _ in range(3):  # the best of three: the machine is shared
        driver.refresh()
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.body.dataset.ready === '1'"))
        best_open = min(best_open, float(driver.execute_script("return document.body.dataset.readyMs")))
        best_click = min(best_click, driver.execute_script(CLICK_MS))
    assert best_open < 200 and best_click < 200, (best_open, best_click)


CLICK_MS = """
var c = document.getElementById('output-canvas'), r = c.getBoundingClientRect(), t = performance.now();
document.querySelector('#layers tr[data-layer="conv1_conv"]').click();
c.dispatchEvent(new MouseEvent('click', {clientX: r.left + 20, clientY: r.top + 20, bubbles: true}));
return performance.now() - t;
"""


def test_growth_points_and_flat_rows_answer_clicks(driver, tmp_path):
    a = analyze("c3,c3,p2", head="seed")
    open_page(driver, tmp_path, report(a).html)
    point = driver.find_element("css selector", '#growth circle[data-layer="conv2d"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", point)
    point.click()
    got = read_field(driver)
    assert (got["layer"], pair(got["rows"])) == ("conv2d", unit_field(a.layers[0], (15, 15))[0])
    choose_by_click(driver, "flatten")
    assert "whole input" in driver.find_element("id", "field").text
    assert_clean(driver)


def field_all(got):
    return tuple(pair(axis) for axis in got["field"].split(";"))


@pytest.mark.parametrize(
    "spec, shape",
    [
        ("c2d1..8/causal,p2", (40, 1)),  # 1-D: a signal strip
        ("c3x1x1,c1x3x3,p1x2x2,up1x2x2", (8, 8, 8, 1)),  # 3-D: slices, PageUp/PageDown
        ("c3,p2,c3,p2,up2,c3,up2/bilinear,c3", (24, 24, 1)),  # decoder: phase-dependent fields
        ("c3s2,t3s2", (16, 16, 1)),  # transposed conv
        ("c3,t1s2", (8, 1)),  # units that read nothing
    ],
)
def test_nd_and_decoder_fields_answer_with_the_analysis(driver, tmp_path, spec, shape):
    a = analyze(spec, input_shape=shape)
    rank = len(shape) - 1
    open_page(driver, tmp_path, report(a).html)
    for row in [r for r in a.layers if r.spatial]:
        choose_by_click(driver, row.name)
        centre = tuple((n - 1) // 2 for n in row.output_shape[:rank])
        oh, ow = (1, row.output_shape[0]) if rank == 1 else row.output_shape[rank - 2 : rank]
        for q in dict.fromkeys([(0, 0), (0, ow - 1), (oh - 1, 0), (oh - 1, ow - 1), ((oh - 1) // 2, (ow - 1) // 2)]):
            click_unit(driver, q)
            unit = (q[1],) if rank == 1 else centre[: rank - 2] + q
            got = read_field(driver)
            assert (got["layer"], pair(got["unit"])) == (row.name, unit)
            assert field_all(got) == unit_field(row, unit), (row.name, unit)
        press(driver, "ARROW_RIGHT")
        if rank == 3:
            press(driver, "PAGE_DOWN")
            unit = (min(unit[0] + 1, row.output_shape[0] - 1),) + unit[1:]
        else:
            unit = unit[:-1] + (min(unit[-1] + 1, row.output_shape[rank - 1] - 1),)
        got = read_field(driver)
        if rank == 3:
            unit = unit[:-1] + (min(unit[-1] + 1, row.output_shape[2] - 1),)
        assert pair(got["unit"]) == unit and field_all(got) == unit_field(row, unit), (row.name, unit)
    assert_clean(driver)


@pytest.mark.tf
@pytest.mark.slow
def test_erf_button_shows_the_measured_unit_with_its_heatmap(driver, tmp_path):
    np = pytest.importorskip("numpy")
    Image = pytest.importorskip("PIL.Image")
    a = analyze("c3,c3,c3", input_shape=(16, 16, 1))
    page = report(a, erf=True)
    open_page(driver, tmp_path, page.html)
    choose_by_click(driver, "conv2d_1")
    click_unit(driver, (0, 0))
    button = driver.find_element("id", "erf-show")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    got = read_field(driver)
    assert (got["layer"], pair(got["unit"])) == ("conv2d_1", (7, 7))
    assert (pair(got["rows"]), pair(got["cols"])) == unit_field(a.layers[1], (7, 7))
    px = np.asarray(Image.open(io.BytesIO(driver.find_element("id", "input-canvas").screenshot_as_png)).convert("RGB"))
    assert ((px[..., 0] > 200) & (px[..., 1] > 200) & (px[..., 2] < 120)).any(), "the heatmap's hot (yellow) centre"
    assert_clean(driver)


def test_a_hostile_layer_name_is_shown_as_text(driver, tmp_path):
    import dataclasses

    from rfcalc.htmlreport.page import build_html

    a = analyze("c3,c3")
    evil = '"><img src=x onerror=alert(1)></script><script>alert(2)</script>'
    a = dataclasses.replace(a, layers=(dataclasses.replace(a.layers[0], name=evil), a.layers[1]))
    open_page(driver, tmp_path, build_html(a))
    driver.execute_script("document.querySelectorAll('#layers tbody tr')[0].click()")
    assert read_field(driver)["layer"] == evil
    assert evil in driver.find_element("id", "field").text
    assert driver.execute_script("return document.querySelectorAll('img[src=x], script').length") == 2
    assert_clean(driver)


def _rects(driver, *selectors) -> dict:
    return driver.execute_script(
        "var o = {}; for (var s of arguments) { var e = document.querySelector(s);"
        " if (e) { var b = e.getBoundingClientRect(); o[s] = [b.left, b.top, b.right, b.bottom]; } } return o;",
        *selectors,
    )


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_first_screen_at_1366x768_shows_image_field_and_the_table_start(driver, tmp_path, lang):
    """Issue 18.17: measured, not looked at: both canvases whole and the field's first line on the first
    screen, the table starting within the screen's height (768), no sideways scrolling at 1280."""
    from rfcalc.htmlreport.page import report

    try:
        for width in (1366, 1280):
            driver.set_window_size(width, 768)
            open_page(driver, tmp_path, report("(c3,c3,p2)*4", input_shape=(64, 64, 3), lang=lang).html)
            inner = driver.execute_script("return innerHeight")
            r = _rects(driver, "#input-canvas", "#output-canvas", "#field", "table")
            assert r["#input-canvas"][3] <= inner and r["#output-canvas"][3] <= inner, (inner, r)
            assert r["#field"][1] + 20 <= inner, (inner, r)
            assert r["table"][1] < 768, f"the table starts {r['table'][1]:.0f} px down"
            sw, cw = driver.execute_script(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert sw <= cw, f"sideways scrolling at {width}: {sw} > {cw}"
        driver.save_screenshot(str(tmp_path / f"first-screen-{lang}.png"))
    finally:
        driver.set_window_size(1400, 1800)


GROWTH = """
var svg = document.getElementById('growth'), out = {lines: [], xticks: [], yticks: []};
svg.querySelectorAll('polyline.rfline').forEach(function (p) {
  out.lines.push(Array.from(p.points).map(function (q) { return [q.x, q.y]; }));
});
svg.querySelectorAll('text.xtick').forEach(function (t) { out.xticks.push(t.textContent); });
svg.querySelectorAll('text.ytick').forEach(function (t) { out.yticks.push(t.textContent); });
return out;
"""


def test_growth_chart_has_numbered_ticks_on_both_axes_and_monotone_lines(driver, tmp_path):
    """Issue 18.17 (a): depth ticks 1..n under the x axis, rf ticks beside the y axis, one polyline per axis
    whose points go left to right (x non-decreasing) and whose rf never shrinks (SVG y non-increasing)."""
    a = analyze("c3,c3s2x1,c5,p2", input_shape=(32, 48, 1))
    open_page(driver, tmp_path, report(a).html)
    g = driver.execute_script(GROWTH)
    n = len([r for r in a.layers if r.spatial])
    assert g["xticks"][0] == "1" and g["xticks"][-1] == str(n), g["xticks"]
    assert [int(t) for t in g["xticks"]] == sorted(int(t) for t in g["xticks"])
    assert len(g["yticks"]) >= 3 and "0" in g["yticks"], g["yticks"]
    assert len(g["lines"]) == 2, "rows and columns differ: one line each"
    for line in g["lines"]:
        assert len(line) == n
        xs, ys = [p[0] for p in line], [p[1] for p in line]
        assert xs == sorted(xs) and ys == sorted(ys, reverse=True), line
    assert_clean(driver)


def test_one_d_strip_is_readable(driver, tmp_path):
    """Issue 18.17 (d): the 1-D signal strip is drawn at least 40 px tall."""
    open_page(driver, tmp_path, report("c3*4", input_shape=(64, 1)).html)
    h = driver.execute_script("return document.getElementById('input-canvas').getBoundingClientRect().height")
    assert h >= 40, h
    assert_clean(driver)


FRAME = """
var out = [];
['#input-canvas', '#output-canvas', '#viewer .panes', '#field'].forEach(function (s) {
  var b = document.querySelector(s).getBoundingClientRect(); out.push([s, b.left, b.top, b.width, b.height]);
});
return out;
"""


def test_the_field_frame_keeps_its_place_between_units(driver, tmp_path):
    """Issue 18.17 (c): hovering units whose field is partly padding, inside, or empty moves neither canvas
    nor the field's box."""
    from selenium.webdriver.common.action_chains import ActionChains

    a = analyze("c3,t1s2", input_shape=(8, 8, 1))  # the odd units of the last layer read nothing
    open_page(driver, tmp_path, report(a).html)
    canvas = driver.find_element("id", "output-canvas")
    driver.execute_script("window.scrollTo(0, 0)")
    seen = []
    for dx, dy in ((-150, -150), (0, 0), (150, 150), (-150, 150), (20, 20)):
        ActionChains(driver).move_to_element_with_offset(canvas, dx, dy).perform()
        seen.append((read_field(driver)["unit"], driver.execute_script(FRAME)))
    assert len({u for u, _ in seen}) == len(seen), seen
    assert all(f == seen[0][1] for _, f in seen), seen
    assert_clean(driver)


def test_small_units_can_be_zoomed(driver, tmp_path):
    """Issue 18.17 (e): + doubles the input's drawn scale (pixels per input pixel), the wheel too, − undoes
    it; the field read back stays the unit's."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

    a = analyze("c3,c3", input_shape=(128, 128, 1))
    open_page(driver, tmp_path, report(a).html)

    def scale():
        return float(driver.execute_script("return document.getElementById('input-canvas').dataset.scale"))

    before, field = scale(), read_field(driver)["field"]
    driver.find_element("id", "zoom-in").click()
    driver.find_element("id", "zoom-in").click()
    assert scale() == pytest.approx(4 * before)
    assert read_field(driver)["field"] == field
    canvas = driver.find_element("id", "input-canvas")
    ActionChains(driver).scroll_from_origin(ScrollOrigin.from_element(canvas), 0, -100).perform()
    assert scale() == pytest.approx(8 * before)
    for _ in range(3):
        driver.find_element("id", "zoom-out").click()
    assert scale() == pytest.approx(before)
    assert driver.find_element("id", "zoom-level").text == "1×"
    assert_clean(driver)


def test_erf_heatmap_has_a_colour_legend(driver, tmp_path):
    """Issue 18.17 (b): a gradient bar from 0 to max beside the legend, shown while a unit with an ERF
    is drawn, hidden otherwise. The ERF is a made-up heatmap (no TensorFlow): the legend is the page's."""
    np = pytest.importorskip("numpy")
    from rfcalc.htmlreport.image import heat_uri
    from rfcalc.htmlreport.page import build_html

    a = analyze("c3,c3", input_shape=(16, 16, 1))
    yy, xx = np.mgrid[:16, :16]
    heat = np.exp(-((yy - 7.0) ** 2 + (xx - 7.0) ** 2) / 8)
    erf = [{"layer": "conv2d_1", "unit": [7, 7], "samples": 1, "uri": heat_uri(heat), "sides": {}, "area": {}}]
    open_page(driver, tmp_path, build_html(a, erf=erf))
    legend = """var k = document.getElementById('erf-legend'), b = k && k.querySelector('.erfbar');
      if (!k) return null; var r = b.getBoundingClientRect();
      return [k.offsetParent !== null, r.width, r.height, getComputedStyle(b).backgroundImage,
              k.querySelector('.erf-lo').textContent, k.querySelector('.erf-hi').textContent];"""
    choose_by_click(driver, "conv2d_1")
    click_unit(driver, (0, 0))
    assert driver.execute_script(legend)[0] is False, "no ERF for this unit: no legend"
    button = driver.find_element("id", "erf-show")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    shown, width, height, bg, lo, hi = driver.execute_script(legend)
    assert shown and width >= 60 and height >= 8, (shown, width, height)
    assert "linear-gradient" in bg and (lo, hi) == ("0", "max")
    assert_clean(driver)
