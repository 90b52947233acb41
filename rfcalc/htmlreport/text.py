"""Every word of the HTML report, in English and Japanese (``--lang en|ja``).

>>> sorted(TEXT)
['en', 'ja']
>>> set(TEXT["en"]["ui"]) == set(TEXT["ja"]["ui"])
True
"""

from __future__ import annotations

from ..tablewords import FLAG_HELP_JA, WORDS  # noqa: F401 (FLAG_HELP_JA: read from here by data.py); one source of words

_UI_EN = {
    "title": "Receptive field report",
    "layers": "Layers",
    "input": "Input",
    "output": "Output of",
    "pick": "Click a spatial layer in the table (or focus the table and use ↑/↓), then hover or click a unit "
    "of its output; arrow keys move the unit (PageUp/PageDown: the slice of a 3-D input).",
    "unit": "unit",
    "rows": "rows",
    "cols": "columns",
    "rf": "receptive field",
    "rf_min": "smallest field over paths",
    "jump": "jump",
    "start": "start",
    "padding": "in the padding (zeros)",
    "inside": "inside the image",
    "none_inside": "none inside the image",
    "holes": "unread pixels inside the field (holes)",
    "zoom": "zoom (or the mouse wheel over the input)",
    "misaligned": "merged branches are misaligned here: the field is the union of differently centred paths",
    "growth": "Receptive field over depth",
    "input_size": "input size",
    "legend_field": "field of the unit",
    "legend_pad": "padding",
    "legend_centres": "neighbours' centres (jump apart)",
    "legend_erf": "ERF",
    "erf": "Effective receptive field",
    "erf_for": "unit {unit} of {layer} ({source})",
    "erf_show": "show the chosen layer's ERF unit",
    "erf_scale": "ERF (gradient magnitude, relative to its largest)",
    "erf_max": "max",
    "erf_random": "{n} random normal inputs",
    "erf_sides": "side of the smallest square around the field's centre that holds this share of the gradient mass",
    "erf_area_head": "area {t}",
    "erf_area": "area t: RepLKNet's high-contribution area ratio, the smallest centred square holding t of the "
    "gradient over the input's area (± bootstrap standard error)",
    "no_spatial": "no spatial extent: every unit depends on the whole input",
    "image_note": "",
    "grid": "no image: a neutral grid of the input pixels",
    "layer_row": "layer",
    "depth": "depth (spatial layers)",
    "samples": "samples",
    "slices": "slice",
    "empty": "this unit reads no input pixel (a transposed conv whose kernel is shorter than its stride)",
    "band": "productive input sizes",
    "border": "border layer",
}

_UI_JA = {
    "title": "受容野レポート",
    "layers": "層",
    "input": "入力",
    "output": "出力：",
    "pick": "表の空間層をクリック（または表にフォーカスして ↑/↓）し、出力のユニットにマウスを乗せるかクリックします。"
    "矢印キーでユニットを動かせます（3次元の入力では PageUp/PageDown でスライスを変えます）。",
    "unit": "ユニット",
    "rows": "行",
    "cols": "列",
    "rf": "受容野",
    "rf_min": "経路の中で最小の受容野",
    "jump": "ジャンプ",
    "start": "start",
    "padding": "パディング（ゼロ）の部分",
    "inside": "画像の内側",
    "none_inside": "画像の内側にはない",
    "holes": "受容野の中で読まれないピクセル（穴）",
    "zoom": "拡大（入力の上でマウスホイールも使えます）",
    "misaligned": "この層で合流する枝の位置がずれています：受容野は中心の異なる経路の和です",
    "growth": "深さと受容野",
    "input_size": "入力サイズ",
    "legend_field": "ユニットの受容野",
    "legend_pad": "パディング",
    "legend_centres": "隣のユニットの中心（ジャンプ間隔）",
    "legend_erf": "ERF",
    "erf": "有効受容野（ERF）",
    "erf_for": "{layer} のユニット {unit}（{source}）",
    "erf_show": "選んだ層の ERF のユニットを表示",
    "erf_scale": "ERF（勾配の大きさ、最大値に対する比）",
    "erf_max": "最大",
    "erf_random": "正規分布の乱数の入力 {n} 個",
    "erf_sides": "受容野の中心のまわりで、勾配の総量のうちこの割合が入る最小の正方形の一辺",
    "erf_area_head": "面積 {t}",
    "erf_area": "面積 t：RepLKNet の高寄与面積比。勾配の総量のうち t が入る中心の最小の正方形の面積を入力の面積で割った値（± ブートストラップ標準誤差）",
    "no_spatial": "空間方向の広がりなし：各ユニットは入力全体に依存します",
    "image_note": "",
    "grid": "画像なし：入力ピクセルの格子",
    "layer_row": "層",
    "depth": "深さ（空間層）",
    "samples": "サンプル",
    "slices": "スライス",
    "empty": "このユニットはどの入力ピクセルも読みません（カーネルがストライドより短い転置畳み込み）",
    "band": "生産的な入力サイズ",
    "border": "境界層",
}

_PRODUCTIVITY_EN = {
    "border": "Border layer: {name} reads {reads} > {size}",
    "unproductive": "Unproductive: {first} .. {last} ({n} layers, shaded)",
    "sizes": "Productive input sizes: {r} (the band on the chart)",
    "no_range": "No input size makes every layer productive with the last field covering the input: {why}",
    "why_wider": "a layer reads a {x}-pixel field, wider than the last field ({hi})",
    "why_runs": "the network runs only on inputs of {x} pixels or more, more than its last field ({hi}) covers",
}
_PRODUCTIVITY_JA = {
    "border": "境界層：{name}（読む受容野 {reads} が入力 {size} より広い）",
    "unproductive": "非生産的な層：{first} 〜 {last}（{n} 層、網掛け）",
    "sizes": "生産的な入力サイズ：{r}（グラフの帯）",
    "no_range": "すべての層が生産的で、最後の受容野が入力を覆う入力サイズはありません：{why}",
    "why_wider": "ある層が読む受容野（{x} ピクセル）が最後の受容野（{hi}）より広い",
    "why_runs": "{x} ピクセル以上の入力でしか動かず、最後の受容野（{hi}）ではそれを覆えない",
}

_KEYS = ("total", "trainable", "nontrainable", "macs", "field", "larger", "smallest")

TEXT = {
    "en": {**{k: WORDS["en"][k] for k in _KEYS}, **_PRODUCTIVITY_EN, "ui": _UI_EN},
    "ja": {"headers": WORDS["ja"]["headers"], **{k: WORDS["ja"][k] for k in _KEYS}, **_PRODUCTIVITY_JA, "ui": _UI_JA},
}
