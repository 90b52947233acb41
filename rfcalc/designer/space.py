"""The space a design search walks: the layer vocabulary, the filter schedule, and the grammar of stacks.

Free mode (``--layers "c3,c5,p2"``): any vocabulary layer at any step, at least one of them a
convolution (pooling alone reaches any field for free and learns nothing). Like mode (``--like "c3,c3,p2"``):
the template's kinds in its order, each kind repeated one or more times, each copy with its own
dilation and stride. A ``d*`` in a vocabulary token (``c2d*/causal``) stands for every power-of-two
dilation up to the target field. Filters come from the tokens, or from ``filters``: one width for
every conv, or a schedule where each downsampling layer (stride > 1) moves the next layers to the
next width.

>>> s = space("c3,c5,p2")
>>> [format_layer(layer) for layer in s.choices], s.moves[0]
(['c3', 'c5', 'p2'], ((0, 1), (1, 1), (2, 0)))
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..dsl import format_layer, parse  # noqa: F401 (format_layer: the doctests)
from ..errors import SpecError
from ..layers import Conv, DepthwiseConv, Pool, SeparableConv, symbols_of

DEFAULT_VOCABULARY = "c3,c5,p2"  # the course notebook's layers
DILATIONS = (1, 2, 4, 8)
STRIDES = (1, 2)
_CONVS = (Conv, DepthwiseConv, SeparableConv)
_FREE_DILATION = re.compile(r"d\*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Space:
    """Layer choices and a grammar: ``moves[pos]`` lists ``(choice, next_pos)``; stacks end in ``accepting``."""

    choices: tuple  # Layer values, filters as written (``layer_at`` applies the schedule)
    moves: tuple  # per grammar position: ((choice index, next position), ...)
    accepting: frozenset
    need: tuple  # per position: the fewest more layers that reach an accepting position
    filters: tuple | None = None
    label: str = ""  # how the space was given, for messages

    def stages(self) -> int:
        return 1 if not self.filters else len(self.filters)

    def layer_at(self, choice: int, stage: int):
        """The layer of ``choice`` in filter stage ``stage`` (the schedule's last width past its end)."""
        layer = self.choices[choice]
        if self.filters and isinstance(layer, (Conv, SeparableConv)):
            return replace(layer, filters=self.filters[min(stage, len(self.filters) - 1)])
        return layer

    def layers(self, path) -> tuple:
        """The layers of a path of choices, each in the filter stage its position gives it.

        >>> format_layer(space("c3,p2", filters=(16, 64)).layers((0, 1, 0))[2])
        'c3-64'
        """
        out, stage = [], 0
        for choice in path:
            layer = self.layer_at(choice, stage)
            out.append(layer)
            stage += downsamples(layer)
        return tuple(out)

    def count(self, max_depth: int) -> int:
        """How many stacks of 1..max_depth layers the grammar allows (the size of the declared space).

        >>> space("c3,c5,p2").count(2)
        10
        """
        ways = {0: 1}
        total = 0
        for _ in range(max_depth):
            nxt: dict = {}
            for pos, n in ways.items():
                for _, to in self.moves[pos]:
                    nxt[to] = nxt.get(to, 0) + n
            ways = nxt
            total += sum(n for pos, n in ways.items() if pos in self.accepting)
        return total


def downsamples(layer) -> int:
    """1 when the layer strides (moves the filter schedule on), else 0."""
    return int(any(s > 1 for s in layer.stride))


def _items(text: str):
    """The comma-separated items of a vocabulary, each with its offset in ``text``."""
    at = 0
    for part in text.split(","):
        lead = len(part) - len(part.lstrip())
        item = part.strip()
        yield item, at + lead
        at += len(part) + 1


def _one_layer(text: str, item: str, at: int, what: str, rank: int):
    """Parse one item into one spatial layer; errors point into the whole ``text``."""
    if not item:
        raise SpecError(f"empty {what} item (two commas in a row?)", text, at)
    try:
        layers = parse(_FREE_DILATION.sub("  ", item), rank=rank)  # spaces are ignored: carets stay in place
    except SpecError as err:
        pos = at + (err.pos or 0) if err.spec is not None else at
        raise SpecError(err.reason, text, pos, max(1, at + len(item) - pos)) from None
    names = symbols_of(layers)
    if names:
        raise SpecError(
            f"design chooses the numbers itself; {item!r} has the symbol {names[0]} (write a number, as in c3)",
            text,
            at,
            len(item),
        )
    if len(layers) != 1:
        raise SpecError(f"each {what} item is one layer; {item!r} is {len(layers)}", text, at, len(item))
    layer = layers[0]
    if not isinstance(layer, (*_CONVS, Pool)):
        kind = layer.keras_class
        hint = " (put Flatten/Dense in --head)" if kind.startswith(("Dense", "Flatten", "Global")) else ""
        raise SpecError(
            f"design stacks convolutions and pooling; {item!r} is a{'n' * (kind[0] in 'AEIOU')} {kind}{hint}",
            text,
            at,
            len(item),
        )
    return layer


def _powers(limit: int) -> tuple:
    out, d = [], 1
    while d <= max(1, limit):
        out.append(d)
        d *= 2
    return tuple(out)


def _variants(layer, dilations, strides):
    """The template layer with each allowed dilation and stride (Keras refuses both above 1 at once)."""
    if isinstance(layer, Pool):
        k = max(layer.kernel)
        return tuple(
            dict.fromkeys(replace(layer, stride=(s,) * len(layer.kernel)) for s in sorted({*strides, k}) if s <= k)
        )
    rank = len(layer.kernel)
    out = [
        replace(layer, stride=(s,) * rank, dilation=(d,) * rank) for s in strides for d in dilations if s == 1 or d == 1
    ]
    return tuple(dict.fromkeys(out))


def space(vocabulary: str = DEFAULT_VOCABULARY, filters=None, dilation_limit: int = 64, rank: int = 2) -> Space:
    """The free space over a vocabulary such as ``"c3,c5,p2"``; ``d*`` dilations go up to ``dilation_limit``.

    >>> [format_layer(layer) for layer in space("c3d*", dilation_limit=4).choices]
    ['c3', 'c3d2', 'c3d4']
    """
    if not isinstance(vocabulary, str):
        raise SpecError(f'a vocabulary is a string such as "c3,c5,p2". Received: {type(vocabulary).__name__}')
    choices, seen = [], {}
    for item, at in _items(vocabulary):
        layer = _one_layer(vocabulary, item, at, "vocabulary", rank)
        free = _FREE_DILATION.search(item)
        if free and not isinstance(layer, _CONVS):
            raise SpecError("'d*' (a free dilation) needs a convolution", vocabulary, at + free.start(), 2)
        options = (
            [replace(layer, dilation=(d,) * len(layer.kernel)) for d in _powers(dilation_limit)] if free else [layer]
        )
        for option in options:
            if option in seen:
                raise SpecError(f"{item!r} is in the vocabulary twice (as {seen[option]!r})", vocabulary, at, len(item))
            seen[option] = item
            choices.append(option)
    convs = [i for i, layer in enumerate(choices) if isinstance(layer, _CONVS)]
    if not convs:
        raise SpecError(
            "the vocabulary needs a convolution: pooling alone learns nothing", vocabulary, 0, len(vocabulary)
        )
    # position 0: no convolution yet; 1: at least one (a stack of pooling alone is not a design)
    moves = (
        tuple((i, 1 if i in convs else 0) for i in range(len(choices))),
        tuple((i, 1) for i in range(len(choices))),
    )
    return Space(tuple(choices), moves, frozenset({1}), (1, 0), _schedule(filters), vocabulary)


def like(template: str, filters=None, dilations=DILATIONS, strides=STRIDES, rank: int = 2) -> Space:
    """Stacks with the kinds of ``template`` in its order: counts, dilations and strides vary.

    Position 0 is the start; position i+1 means "inside the run of template layer i".

    >>> s = like("c3,p2")
    >>> len(s.choices), sorted(s.accepting), s.need
    (7, [2], (2, 1, 0))
    """
    if not isinstance(template, str):
        raise SpecError(f'a template is a string such as "c3,c3,p2". Received: {type(template).__name__}')
    slots = []
    for item, at in _items(template):
        layer = _one_layer(template, item, at, "template", rank)
        if _FREE_DILATION.search(item):
            raise SpecError("--like varies dilations itself; write the layer without 'd*'", template, at, len(item))
        base = replace(layer, stride=(1,) * len(layer.kernel)) if isinstance(layer, _CONVS) else layer
        if slots and slots[-1] == base:
            continue  # c3,c3 is one run of c3: counts vary anyway
        slots.append(base)
    choices, groups = [], []
    for base in slots:
        group = []
        for v in _variants(base, dilations, strides):
            group.append(len(choices))
            choices.append(v)
        groups.append(group)
    moves = [tuple((c, 1) for c in groups[0])]
    for i, group in enumerate(groups):
        here = [(c, i + 1) for c in group]
        nxt = [(c, i + 2) for c in groups[i + 1]] if i + 1 < len(groups) else []
        moves.append(tuple(here + nxt))
    need = (len(groups),) + tuple(len(groups) - p for p in range(1, len(groups) + 1))
    return Space(tuple(choices), tuple(moves), frozenset({len(groups)}), need, _schedule(filters), template)


def _schedule(filters):
    if filters is None:
        return None
    if isinstance(filters, int):
        filters = (filters,)
    if not isinstance(filters, (tuple, list)):
        raise SpecError(
            f"filters are positive integers, one for all convs or one per stage. Received: filters={filters!r}"
        )
    filters = tuple(filters)
    if not filters or any(not isinstance(f, int) or isinstance(f, bool) or f < 1 for f in filters):
        raise SpecError(
            f"filters are positive integers, one for all convs or one per stage. Received: filters={filters!r}"
        )
    return filters
