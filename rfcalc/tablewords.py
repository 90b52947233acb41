"""The words of the layer table and its footer in English and Japanese (the terminal and the report share them).

Layer names and types, numbers, units (KB, MB), ``MACs``, flag names and options stay as they are.

>>> WORDS["ja"]["total"].format(n="10,144", b="39.62 KB")
'パラメータ総数：10,144（39.62 KB）'
>>> set(WORDS["en"]) == set(WORDS["ja"])
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .textable import Column

FLAG_HELP_JA = {
    "rf>input": "受容野が入力より大きい",
    "skips": "ストライドが窓より長く、一度も読まれない入力ピクセルがある",
    "drops": "'valid' のため入力の最後の行・列の一部が読まれない",
    "misaligned": "合流する枝のジャンプまたは中心が異なる",
    "holes": "受容野に穴がある：ダイレーションや前段のストライドで読まれないピクセルがある（グリッディング）",
    "holes?": "受容野に穴があるかもしれない：幅 1,048,576 ピクセルまでの受容野だけを厳密に追跡する",
    "causal": "パディングはすべて前側：各出力は自分の位置以前の入力だけを読む",
    "empty": "どの入力も読まない出力ユニットがある（タップが届かない転置畳み込み）",
    "reflect": "境界は実際のピクセルの鏡像で埋まる（端の外の受容野はそれを読む）",
    "edge": "境界は端のピクセルの繰り返しで埋まる（端の外の受容野はそれを読む）",
    "broadcast": "大域プーリングから作ったゲート（squeeze-excitation）がここで掛かる：各ユニットは実際には入力全体に"
    "依存するが、表示する受容野は局所的なもの（docs/frameworks.md）",
    "unproductive": "読む受容野がすべての軸で入力より広い：前の層より多くを見ることができない（非生産的な層）",
    "unproductive?": "一部の軸だけ非生産的（ほかの軸ではまだ文脈を集めている）",
    "ties": "float32 の丸めの範囲で同点（nearest）や整数位置（linear、cubic）に当たるユニットがある：onnxruntime は"
    "そこで隣のピクセルを読むことがある",
    "bound": "上界：受容野の異なる部分が空間軸に沿って結合されたため、各ユニットが実際に読む範囲はこれより狭いことがある",
    "tokens": "定数（クラストークン）がトークンに結合された、または大きさの異なるマップが結合された（位置を区別できないため"
    "以降は受容野なし）",
}

# per language: each value is a str, except "headers" (a tuple of str)
WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "headers": ("Layer (type)", "Output Shape", "Param #", "MACs", "RF", "Jump", "Start", "Note"),
        "connected": "Connected to",
        "shape_short": "Output",
        "input_row": "input",
        "model": 'Model: "{spec}"  {input}',
        "total": "Total params: {n} ({b})",
        "trainable": "Trainable params: {n} ({b})",
        "nontrainable": "Non-trainable params: {n} ({b})",
        "macs": "Total MACs: {n} per image",
        "stored": "Stored params: {n} ({b}): distinct tensors in the file; layers read some of them more than once",
        "field": "Receptive field: {rf} of the {shape} input, jump {j}, start {s}",
        "larger": " (larger than the input)",
        "smallest": "Smallest field over all paths: {rf}",
        "memory": "Memory, batch {batch}: input {inp} + params {par} + forward/backward {fwd} = {tot} MB",
        "more": "... {n} more layers (--all or --json shows every one) ...",
        "dropped": "Not shown at {width} columns: {names} ({hint})",
        "hint": "--wide shows every column",
        "rows_shown": "Rows shown: {shown} of {total} (--rows {pattern}); the totals are the whole model's",
        "depth": "Rows past depth {depth} are summed into their module ({n} rows folded; --depth to change)",
        "group": "{n} layers",
        "comma": ", ",
    },
    "ja": {
        "headers": ("層（型）", "出力の形", "パラメータ数", "MACs", "受容野", "ジャンプ", "start", "注記"),
        "connected": "入力元",
        "shape_short": "出力",
        "input_row": "input",
        "model": "モデル「{spec}」 {input}",
        "total": "パラメータ総数：{n}（{b}）",
        "trainable": "学習するパラメータ：{n}（{b}）",
        "nontrainable": "学習しないパラメータ：{n}（{b}）",
        "macs": "MACs 合計：画像1枚あたり {n}",
        "stored": "保存されたパラメータ：{n}（{b}）：ファイル内の異なるテンソルの数。同じテンソルを複数の層が読んでいます",
        "field": "受容野：入力 {shape} に対して {rf}、ジャンプ {j}、start {s}",
        "larger": "（入力より大きい）",
        "smallest": "経路の中で最小の受容野：{rf}",
        "memory": "メモリ（バッチ {batch}）：入力 {inp} + パラメータ {par} + 順伝播・逆伝播 {fwd} = {tot} MB",
        "more": "... ほかに {n} 層（--all か --json ですべて表示） ...",
        "dropped": "幅 {width} 桁に収めるため省略した列：{names}（{hint}）",
        "hint": "--wide ですべての列を表示",
        "rows_shown": "表示した行：{total} 行のうち {shown} 行（--rows {pattern}）。合計はモデル全体のもの",
        "depth": "深さ {depth} より深い行はそのモジュールにまとめて合計しています（{n} 行；--depth で変更）",
        "group": "{n} 層",
        "comma": "、",
    },
}

_JA = {  # the other tables' words (compare, design, probe): English text -> Japanese
    "Spec": "スペック",
    "RF": "受容野",
    "Jump": "ジャンプ",
    "Output Shape": "出力の形",
    "Params": "パラメータ数",
    "MACs": "MACs",
    "x": "×",
    "k·k weights": "k·k 重み",
    "Output": "出力",
    "Depth": "深さ",
    "Best for": "最良の指標",
    "Unprod.": "非生産",
    "Sizes": "生産的な入力サイズ",
    "Layer (type)": "層（型）",
    "Unit": "ユニット",
    "RF measured": "受容野（測定）",
    "RF analytic": "受容野（解析）",
    "Jump m / a": "ジャンプ 測定 / 解析",
    "Start m / a": "start 測定 / 解析",
    "Agree": "一致",
    "Quantity": "量",
    "Value": "値",
    "/ theoretical rf": "/ 理論上の受容野",
}
_JA_LINES = (  # (English pattern, Japanese template) for titles and lines under the tables
    (r"Compared on an? (.+) input \(ratios to the first spec\)", r"入力 \1 で比較（比は最初のスペックに対して）"),
    (
        r"k·k weights: kernel weights per input/output channel pair, summed over conv layers \(c7: 49; c3\*3: 27 for "
        r"the same 7x7 field\)",
        "k·k 重み：入力・出力チャンネルの組ごとのカーネルの重みの数を畳み込み層について合計したもの"
        "（c7 は 49、c3*3 は同じ 7x7 の受容野で 27）",
    ),
    (
        r"kernel weights per channel pair: (.+); with C channels in and out, (.+?) for the same (\S+) field",
        r"チャンネルの組ごとのカーネルの重み：\1。入力・出力が C チャンネルなら \2（受容野は同じ \3）",
    ),
    (
        r"kernel weights per channel pair: (.+); with C channels in and out, (.+)",
        r"チャンネルの組ごとのカーネルの重み：\1。入力・出力が C チャンネルなら \2",
    ),
    (r"parameters and MACs with ratios to the first spec", "パラメータ数と MACs（比は最初のスペックに対して）"),
    (
        r"Inside a network: every conv reads (\d+) channels and writes its filters \(C->C on an? (\S+) input\); ratios "
        r"to the first spec; --first-layer: on the image's 3 channels",
        r"ネットワークの内部として比較：どの畳み込みも \1 チャンネルを読み、フィルタの数だけ書きます（入力 \2 で C→C）。"
        r"比は最初のスペックに対して。--first-layer で画像の 3 チャンネルから読む場合",
    ),
    (
        r"As the first layer: the first conv reads the image's (\d+) channels \((\S+) input\), the convs after it their "
        r"filters, so the params ratio is not C->C's; drop --first-layer for that",
        r"最初の層として比較：最初の畳み込みは画像の \1 チャンネルを読み（入力 \2）、後の畳み込みは前のフィルタを読むので、"
        r"パラメータ数の比は C→C の比ではありません（C→C は --first-layer なしで）",
    ),
    (r"Border layer: (\S+) reads (\S+) > (\S+)", r"境界層：\1（読む受容野 \2 が入力 \3 より広い）"),
    (
        r"Unproductive: (.+?)(?: \((\d+) layers\))?",
        lambda m: f"非生産的な層：{m.group(1)}" + (f"（{m.group(2)} 層）" if m.group(2) else ""),
    ),
    (
        r"Productive input sizes: (.+?)( \(fields at this size\))?",
        lambda m: f"生産的な入力サイズ：{m.group(1)}" + ("（この大きさでの受容野から）" if m.group(2) else ""),
    ),
    (r"probe: (.+)", r"プローブ：\1"),
    (r"probed on (\S+)(.*?); (.+), ([0-9.]+) s; all layers agree", r"\1 で測定\2；\3、\4 秒；すべての層が一致"),
    (r"probed on (\S+)(.*?); (.+), ([0-9.]+) s; DISAGREEMENT", r"\1 で測定\2；\3、\4 秒；不一致あり"),
    (r"effective receptive field: (.+)", r"有効受容野：\1"),
    (
        r"Cheapest stacks (?:of|like) (.+) that reach an? (\S+) field on an? (\S+) input",
        r"入力 \3 で \2 の受容野に届く、\1 の最も安い積み方",
    ),
    (
        r"Cheapest stacks (?:of|like) (.+) that cover the whole input on an? (\S+) input",
        r"入力 \2 の全体を見渡す、\1 の最も安い積み方",
    ),
    (
        r"Searched all ([\d,]+) stacks (?:of|like) (.+) within the bounds through ([\d,]+) states \(([\d,]+) labels, "
        r"([\d,]+) layer steps\) in ([0-9.]+) s\.",
        r"上限の範囲で \2 の積み方 \1 通りをすべて探索しました（状態 \3、"
        r"ラベル \4、層の遷移 \5、\6 秒）。",
    ),
    (
        r"Bounds that cut the search: (.+) \(stacks past them were not considered\)\.",
        r"探索を制限した上限：\1（それを超える積み方は考えていません）。",
    ),
    (
        r"NOT PROVEN OPTIMAL: the search stopped at its (.+) limit; these are the best stacks found before it\.",
        r"最適とは証明されていません：探索は \1 の上限で止まりました。これはそれまでに見つかった最良の積み方です。",
    ),
    (
        r"Exact: no stack in this space beats these on params, MACs and depth at once\.",
        "厳密：この空間には、パラメータ数・MACs・深さのすべてでこれらに勝る積み方はありません。",
    ),
    (
        r"(\d+) more stacks on the front \(--top to show them\)\.",
        r"パレート前線にはほかに \1 個の積み方があります（--top で表示）。",
    ),
    (r"Each spec reproduces its row: (.+)", r"各スペックはその行を再現します：\1"),
    (
        r"Not shown at (\d+) columns: (.+) \(--wide shows every column\)",
        r"幅 \1 桁に収めるため省略した列：\2（--wide ですべての列を表示）",
    ),
)


def ja_line(text: str) -> str:
    """One English line under a table in Japanese, where ``_JA_LINES`` knows its pattern (else as it is).

    >>> ja_line("Border layer: conv2d_5 reads 31x31 > 28x28")
    '境界層：conv2d_5（読む受容野 31x31 が入力 28x28 より広い）'
    """
    import re

    for pattern, template in _JA_LINES:
        if re.fullmatch(pattern, text):
            return re.sub(pattern, template, text)
    return text


def translate(grid, lang: str, steps=()):
    """A grid's headers, title and footer in ``lang`` (words this module does not know stay English),
    with ``steps`` keyed by the English headers.

    >>> from rfcalc.textable import Grid, Column
    >>> translate(Grid("probe: c3", (Column("Agree"),), ()), "ja").title
    'プローブ：c3'
    """
    from dataclasses import replace

    seen: dict[str, int] = {}
    cols: list[Column] = []
    for c in grid.columns:
        key = c.key or c.header
        if key == "x" and cols:  # the ratio column after Params / MACs / k·k weights
            key = f"{cols[-1].key} x"
        seen[key] = seen.get(key, 0) + 1
        head = _JA.get(c.header, c.header) if lang == "ja" else c.header
        wrap = key in ("Spec", "Layer (type)")
        drop = key not in ("Spec", "Layer (type)", "RF")
        short = shorten = None
        if key == "Output Shape":
            short, shorten = (_JA["Output"] if lang == "ja" else "Output"), _shape_short
        label = f"{cols[-1].header} {head}" if c.header == "x" and cols else c.label
        cols.append(
            replace(
                c,
                header=head,
                key=key,
                label=label,
                wrap=c.wrap or wrap,
                drop=c.drop or drop,
                short=c.short or short,
                shorten=c.shorten or shorten,
            )
        )

    def line(text: str) -> str:
        if lang != "ja":
            return text
        if "\n" in text:  # a title of several lines: each its own sentence
            return "\n".join(line(part) for part in text.split("\n"))
        return ja_line(text)

    W = WORDS[lang]
    return replace(
        grid,
        title=line(grid.title),
        columns=tuple(cols),
        footer=tuple(line(f) for f in grid.footer),
        steps=tuple(steps) or grid.steps,
        hint=W["hint"],
        dropped_words=W["dropped"],
        comma=W["comma"],
    )


def _shape_short(cell: str) -> str:
    """``(None, 32, 32, 32)`` -> ``32x32x32``.

    >>> _shape_short("(None, 16, 16, 32)")
    '16x16x32'
    """
    return "x".join(cell[7:-1].split(", ")) if cell.startswith("(None, ") else cell
