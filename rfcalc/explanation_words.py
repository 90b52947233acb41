"""The words of ``rfcalc explain``: message templates, word lists and pairs of words, English and Japanese.

One table a language; ``explanation.py`` fills them in. A new language is one more table here.

>>> sorted(LANGS)
['en', 'ja']
"""

from __future__ import annotations

from typing import Any

_EN = dict(
    title='Receptive field of "{spec}" on {a_shape} input',
    intro=(
        "For each layer l we follow three numbers along each axis:\n"
        "  r_l      receptive field: how many input pixels one output pixel sees\n"
        "  j_l      jump: how far apart, in input pixels, two neighbouring output pixels are\n"
        "  start_l  the input position of the centre of output pixel 0 (input pixel i is centred at i)\n"
        "  r_l = r_{l-1} + (k_eff - 1)·j_{l-1},  j_l = j_{l-1}·s_l,  "
        "start_l = start_{l-1} + ((k_eff - 1)/2 - p_l)·j_{l-1}\n"
        "where k_eff = d·(k - 1) + 1 is the kernel size k widened by the dilation d, s_l the stride "
        "and p_l the padding before the first pixel."
    ),
    input="Input ({shape}): r_0 = 1, j_0 = 1, start_0 = 0.",
    layer="Layer {l}, {name} ({token}): {what} -> output feature map {out}",
    conv="{k} kernel, stride {s}, {pad}",
    dw="{k} depthwise kernel, stride {s}, {pad}",
    sep="{k} separable kernel, stride {s}, {pad}",
    pool="{k} {op} pooling, stride {s}, {pad}",
    max="max",
    avg="average",
    dil="dilation {d}",
    same="'same' padding ({before} before, {after} after)",
    valid="'valid' padding (none)",
    zp="zero padding (top {t}, bottom {b}, left {l}, right {r})",
    crop="cropping (top {t}, bottom {b}, left {l}, right {r})",
    pointwise="works on each pixel by itself",
    merge="merges {names}; r is the largest over its inputs",
    keep="  r, j and start stay: r_{l} = {r}, j_{l} = {j}, start_{l} = {st}",
    axes=("height", "width"),
    colon=": ",
    comma=", ",
    flat=(
        "Layer {l}, {name} ({token}): the spatial layout ends here. Every unit from here on depends on the "
        "whole {map} feature map, and so on the whole input image."
    ),
    rest="The remaining layers ({tokens}) have no spatial extent.",
    stack="stacking {count} {k} convolutions",
    single="with a single {k} convolution",
    these="after these {count} layers ({tokens})",
    none="with no layer that looks at neighbours",
    these_many="after these {count} layers ({first} ... {last})",
    summary="In short: {n} spatial layers in {k} stages; the field grows to {rf}, the jump to {j}.",
    stage_item="  - {name}: layers {a}-{b}, field {r0} -> {r1}, jump {j0} -> {j1}{holes}",
    stage_head="Stage {i}, {name} (layers {a}-{b}): the field grows from {r0} to {r1}, {jumps}.",
    jump_grows="the jump from {j0} to {j1}",
    jump_stays="the jump stays {j1}",
    jump_stage="jump {j}",
    with_holes=", with holes",
    holes_here=(
        "  From here the field has holes: dilation, or a jump wider than the kernel's reach, leaves input "
        "pixels inside the {rf} square unread (gridding)."
    ),
    holes=(
        "The {rf} region has holes: not every pixel inside it is read (dilation with gaps, or a jump wider "
        "than the kernel's reach)."
    ),
    holes_maybe="The {rf} region may have holes: they are followed exactly only in fields up to 1,048,576 pixels wide.",
    answer=(
        "Answer: {phrase}, one pixel of the output feature map is computed from {a_region} region of the input image."
    ),
    jump="Neighbouring output pixels are {j} input pixels apart (the jump).",
    bigger="The region is larger than the {hw} image: its outer part lies in the padding.",
    at_title="Output pixel ({i}, {j}) of {name} ({hw}):",
    at_axis=(
        "  {axis}: centre = start + {var}·jump = {st} + {i}·{j} = {c}, extent ±(r - 1)/2 = ±{half} -> {unit} {lo}..{hi}"
    ),
    rows="rows",
    cols="columns",
    pad_side=(("top", "bottom"), ("left", "right")),
    in_pad="    {unit} {lo}..{hi} lie in the {side} padding (zeros).",
    inside="    Inside the image: {unit} {lo}..{hi}.",
    nothing="    None of them is inside the image.",
    all_inside="    All of them are inside the image.",
    gaps="    (With dilation or a stride longer than the window, not every pixel in this range is read.)",
    axes_nd={1: ("length",), 3: ("depth", "height", "width")},
    causal="'causal' padding ({before} before, none after)",
    explicit="explicit padding ({before} before, {after} after)",
    pads_nd="padding {pads} (before:after per axis)",
    crops_nd="cropping {pads} (before:after per axis)",
    up="{k} upsampling ({how})",
    nearest="each unit copied",
    bilinear="bilinear, half-pixel centres",
    tconv="{k} transposed convolution, stride {s}, {pad}",
    decoder=(
        "  The jump shrinks to j_{l} = {j}: output units are closer together than input pixels, and units of "
        "different phases read different inputs, so r is now the largest field over the output units and "
        "the fields repeat every {period} units. The first units of the first axis read:"
    ),
    phase="    unit {u}: input {lo}..{hi} ({w} pixels)",
    phase_none="    unit {u}: no input",
    decoder_rf="  r_{l} = {r} (largest), smallest {rmin}; start_{l} = {st}",
    at_phase="  {axis}: unit {i} reads {unit} {lo}..{hi} (its phase decides the extent: r is {rmin}..{r})",
    unprod=(
        "{which} cannot see more of a {hw} image than layer {prev}: {each} a field ({reads}) already wider "
        "than the image (unproductive; the border layer is layer {first}, {name})."
    ),
    one="Layer {l}",
    many="layers {l}–{m}",
    one_reads="it reads",
    many_read="the first of them reads",
    would="At {lo} {they} would: from {lo} to {hi} every layer is productive and the last field still covers "
    "the input.",
    it="it",
    they="they",
    productive=(
        "Every layer is productive on this {hw} image. Input sizes from {lo} to {hi} keep every layer "
        "productive with the last field covering the input."
    ),
    no_range="No input size makes every layer productive with the last field covering the input: {why}.",
    why_wider="a layer reads a {x}-pixel field, wider than the last field ({hi})",
    why_runs="the network runs only on inputs of {x} pixels or more, more than its last field ({hi}) covers",
    partly="{which} {verb} unproductive along the {axes} only: {pron} still gather context along the other axes.",
    is_="is",
    are="are",
)

_JA = dict(
    title="「{spec}」の受容野（入力 {shape}）",
    intro=(
        "各層 l について、縦と横それぞれで次の3つの量を追います。\n"
        "  r_l      受容野：出力の1ピクセルが見ている入力の領域の、一辺のピクセル数（縦・横それぞれ）\n"
        "  j_l      ジャンプ（実効ストライド）：隣り合う出力ピクセルが入力上で何ピクセル離れているか\n"
        "  start_l  出力ピクセル0の受容野の中心の、入力上の位置（入力ピクセル i の中心を i とします）\n"
        "  r_l = r_{l-1} + (k_eff - 1)·j_{l-1},  j_l = j_{l-1}·s_l,  "
        "start_l = start_{l-1} + ((k_eff - 1)/2 - p_l)·j_{l-1}\n"
        "ここで k_eff = d·(k - 1) + 1 はダイレーション d で広がったカーネルサイズ、s_l はストライド、"
        "p_l は先頭側（上・左）のパディングです。"
    ),
    input="入力（{shape}）：r_0 = 1, j_0 = 1, start_0 = 0",
    layer="第{l}層 {name}（{token}）：{what} → 出力特徴マップ {out}",
    conv="カーネル {k}、ストライド {s}、{pad}",
    dw="depthwise（チャンネルごとの）カーネル {k}、ストライド {s}、{pad}",
    sep="separable カーネル {k}、ストライド {s}、{pad}",
    pool="{op}プーリング {k}、ストライド {s}、{pad}",
    max="最大値",
    avg="平均値",
    dil="ダイレーション {d}",
    same="パディング 'same'（上・左 {before}、下・右 {after}）",
    valid="パディング 'valid'（なし）",
    zp="ゼロパディング（上 {t}、下 {b}、左 {l}、右 {r}）",
    crop="クロッピング（上 {t}、下 {b}、左 {l}、右 {r}）",
    pointwise="各ピクセルを個別に処理します",
    merge="{names} を合流します。r は入力の中で最大のものです",
    keep="  r, j, start は変わりません：r_{l} = {r}, j_{l} = {j}, start_{l} = {st}",
    axes=("縦", "横"),
    colon="：",
    comma="、",
    flat=(
        "第{l}層 {name}（{token}）：ここで空間の並びがなくなります。これ以降のユニットは {map} の特徴マップ全体、"
        "つまり入力画像全体に依存します。"
    ),
    rest="残りの層（{tokens}）には空間方向の広がりはありません。",
    stack="{k}の畳み込みを{count}層重ねると",
    single="{k}の畳み込み1層では",
    these="この{count}層（{tokens}）を通ると",
    none="近くのピクセルを見る層がないので",
    these_many="この{count}層（{first} 〜 {last}）を通ると",
    summary="まとめ：空間方向の層 {n} 層が {k} 段に分かれ、受容野は {rf}、ジャンプは {j} になります。",
    stage_item="  - {name}：第{a}〜{b}層、受容野 {r0} → {r1}、ジャンプ {j0} → {j1}{holes}",
    stage_head="段 {i}「{name}」（第{a}〜{b}層）：受容野は {r0} から {r1} に広がり、{jumps}。",
    jump_grows="ジャンプは {j0} から {j1} になります",
    jump_stays="ジャンプは {j1} のままです",
    jump_stage="ジャンプ {j}",
    with_holes="、穴あり",
    holes_here=(
        "  ここから受容野に穴があります：ダイレーションや、カーネルの届く範囲より広いジャンプのため、"
        "{rf} の領域の中に読まれない入力ピクセルがあります（グリッディング）。"
    ),
    holes=(
        "この {rf} の領域には穴があります：中のすべてのピクセルが読まれるわけではありません"
        "（ダイレーションのすき間や、カーネルの届く範囲より広いジャンプ）。"
    ),
    holes_maybe="この {rf} の領域には穴があるかもしれません：穴を厳密に追うのは幅 1,048,576 ピクセルまでの受容野だけです。",
    answer="答え：{phrase}、出力の1ピクセルは入力画像の{region}の領域から計算されます。",
    jump="隣り合う出力ピクセルは、入力画像上で {j} ピクセルずつずれています（ジャンプ）。",
    bigger="この領域は {hw} の入力画像より大きく、外側はパディングにかかっています。",
    at_title="{name}（{hw}）の出力ピクセル ({i}, {j}) の受容野：",
    at_axis="  {axis}：中心 = start + {var}·ジャンプ = {st} + {i}·{j} = {c}、範囲 ±(r - 1)/2 = ±{half} → {unit} {lo}〜{hi}",
    rows="行",
    cols="列",
    pad_side=(("上側", "下側"), ("左側", "右側")),
    in_pad="    {unit} {lo}〜{hi} は{side}のパディング（ゼロ）です。",
    inside="    画像の内側にあるのは{unit} {lo}〜{hi} です。",
    nothing="    画像の内側には1つもありません。",
    all_inside="    すべて画像の内側にあります。",
    gaps="    （ダイレーションや、窓より長いストライドがあるため、この範囲のすべてのピクセルを読むわけではありません。）",
    axes_nd={1: ("長さ",), 3: ("奥行き", "縦", "横")},
    causal="パディング 'causal'（前 {before}、後なし）",
    explicit="明示的なパディング（前 {before}、後 {after}）",
    pads_nd="パディング {pads}（軸ごとに 前:後）",
    crops_nd="クロッピング {pads}（軸ごとに 前:後）",
    up="{k} のアップサンプリング（{how}）",
    nearest="各ユニットを複製",
    bilinear="双線形、ハーフピクセル中心",
    tconv="転置畳み込み {k}、ストライド {s}、{pad}",
    decoder=(
        "  ジャンプは j_{l} = {j} に縮みます。出力ユニットは入力ピクセルより細かく並び、位相の違うユニットは"
        "違う入力を読むので、r は出力ユニットの中で最大の受容野になり、受容野は {period} ユニットごとに"
        "繰り返します。最初の軸の先頭のユニットが読む範囲："
    ),
    phase="    ユニット {u}：入力 {lo}〜{hi}（{w} ピクセル）",
    phase_none="    ユニット {u}：入力なし",
    decoder_rf="  r_{l} = {r}（最大）、最小 {rmin}；start_{l} = {st}",
    at_phase="  {axis}：ユニット {i} は {unit} {lo}〜{hi} を読みます（幅は位相で決まり、r は {rmin}〜{r}）",
    unprod=(
        "{which}は、{hw} の画像について第{prev}層より多くを見ることができません。{each}受容野（{reads}）が"
        "すでに画像より広いからです（非生産的な層。境界層は第{first}層 {name}）。"
    ),
    one="第{l}層",
    many="第{l}〜{m}層",
    one_reads="この層が読む",
    many_read="最初の層が読む",
    would="{lo} の入力なら見えるようになります。{lo} から {hi} までは、すべての層が生産的で、最後の受容野も入力全体を覆います。",
    it="",
    they="",
    productive=(
        "この {hw} の画像では、すべての層が生産的です。入力サイズが {lo} から {hi} までなら、すべての層が"
        "生産的で、最後の受容野も入力全体を覆います。"
    ),
    no_range="すべての層が生産的で、最後の受容野が入力を覆うような入力サイズはありません。{why}。",
    why_wider="ある層が読む受容野（{x} ピクセル）が、最後の受容野（{hi}）より広いからです",
    why_runs="このネットワークは {x} ピクセル以上の入力でしか動かず、最後の受容野（{hi}）ではそれを覆えないからです",
    partly="{which}は{axes}の方向だけ非生産的です。ほかの方向ではまだ文脈を集めています。",
    is_="",
    are="",
)

LANGS: dict[str, dict[str, Any]] = {"en": _EN, "ja": _JA}  # message templates, word lists, pairs of words
