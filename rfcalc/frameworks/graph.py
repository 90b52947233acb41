"""One framework-neutral graph walk: every adapter (Keras, ONNX, PyTorch) feeds it a list of ``Node``.

The walk visits nodes in topological order (retrying any that come before their inputs), calls
each node's ``read`` on its input fields, and makes one ``Row`` per node. It owns what every
framework shares: the identity escape hatch (a node named in ``identity`` keeps its input field
and the framework's own weight counts), merges (``rf`` the largest, ``rf_min`` the smallest field,
the ``misaligned`` flag and ``AlignmentWarning``), the check of each output shape against the
framework's own, and the refusal of unknown ops by name. Nothing here imports a framework.

>>> from rfcalc.layers import Conv
>>> from rfcalc.propagate import apply_layer, input_field
>>> conv = Node("conv", "Conv", ("x",), "y", read=lambda f: (Conv((3, 3)), apply_layer(Conv((3, 3)), f[0])))
>>> rows = walk([conv], {"x": (input_field((8, 8, 3)), "x")}, (8, 8)).rows
>>> rows[0].name, rows[0].rf, rows[0].output_shape
('conv', (3, 3), (8, 8, 32))
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field as dc_field, replace

from ..analysis import make_row
from ..errors import RFError, ShapeError, UnsupportedLayerError
from ..layers import Identity
from ..propagate import Applied, Field, merge_fields


class AlignmentWarning(UserWarning):
    """Branches merged with different jumps or centres: the merged field is an approximation.
    ``layer``: the merge layer's name (the CLI folds a long run of them into one line)."""

    layer = ""


@dataclass(frozen=True, slots=True)
class Node:
    """One operation as an adapter sees it: names, the tensors it reads and writes, and how to read it.

    ``read(inputs) -> (layer, Applied)``, or a constant (not a tuple: no row) when every input is
    one; inputs that are not ``Field`` values are constants and make no row. ``read=None`` makes an alias (no row: the output is the
    input, e.g. the border of a nested model). ``aliases``: further names ``identity`` may use
    (a class name, the framework's own name). ``weights() -> (trainable, frozen)`` counts the
    framework's weights for the identity escape hatch. ``expect``: the framework's own output
    shape (channels last, no batch; ``None`` entries unknown), checked when given. ``outputs``: names
    whose values ``read`` returns as a third item, stored after the row (an ONNX Split's other
    outputs; ``output`` itself when the value the walk passes on differs from the row's field).
    """

    name: str
    kind: str
    inputs: tuple
    output: object
    read: Callable | None = None
    aliases: frozenset = frozenset()
    weights: Callable | None = None
    expect: tuple | None = None
    frozen: bool = False
    outputs: tuple = ()


@dataclass(slots=True)
class Walked:
    """The rows of a walk, the names ``identity`` used, and the field and name of every tensor."""

    rows: list
    used: set
    fields: dict = dc_field(default_factory=dict)
    names: dict = dc_field(default_factory=dict)


def refuse(name: str, cls: str, why: str, call: str = "from_keras(model") -> UnsupportedLayerError:
    """The error for an operation rfcalc cannot analyse, with the identity escape hatch spelled out.

    >>> print(refuse("up", "Resize", "is not in rfcalc's list of ONNX ops", "from_onnx(path"))  # doctest: +ELLIPSIS
    layer 'up' (Resize) is not in rfcalc's list of ONNX ops. If it ... --identity up on the CLI
    """
    err = UnsupportedLayerError(
        f"layer '{name}' ({cls}) {why}. If it leaves the shape and the receptive field unchanged, "
        f"treat it as identity: {call}, identity=({name!r},)) in Python, --identity {name} on the CLI"
    )
    err.refused = (name, cls, why, call)  # the walk gathers these, to name every such layer at once
    return err


def refuse_all(refused) -> UnsupportedLayerError:
    """One error naming every layer the walk could not analyse, with the class names for ``identity``.

    >>> print(refuse_all([("a", "LayerScale", "is unknown", "f(m"), ("b", "LayerScale", "is unknown", "f(m")]))
    2 layers are unknown: 'a', 'b' (LayerScale). If they leave the shape and the receptive field unchanged, treat them as identity by class: --identity LayerScale on the CLI, f(m, identity=('LayerScale',)) in Python
    """
    if len(refused) == 1:
        return refuse(*refused[0])
    by_class: dict = {}
    for name, cls, _, _ in refused:
        by_class.setdefault(cls, []).append(name)
    why, call = refused[0][2], refused[0][3]
    groups = "; ".join(
        f"{', '.join(repr(n) for n in names[:3])}{f' and {len(names) - 3} more' if len(names) > 3 else ''} ({cls})"
        for cls, names in by_class.items()
    )
    classes = tuple(by_class)
    err = UnsupportedLayerError(
        f"{len(refused)} layers are {why.removeprefix('is ')}: {groups}. If they leave the shape and the receptive field "
        f"unchanged, treat them as identity by class: {' '.join('--identity ' + c for c in classes)} on the CLI, "
        f"{call}, identity={classes!r}) in Python"
    )
    return err


def as_identity(fields: list, trainable: int = 0, frozen: int = 0) -> Applied:
    """The field of a node treated as identity: its input (merged if several), with its own weights.

    >>> from rfcalc.propagate import input_field
    >>> as_identity([input_field((4, 4, 3))], 3).trainable
    3
    """
    applied = merge_fields(fields) if len(fields) > 1 else Applied(fields[0])
    return replace(applied, trainable=trainable, non_trainable=frozen, flags=applied.flags + ("identity",))


def walk(nodes, inputs: dict, input_hw, identity=(), framework: str = "Keras", last=None) -> Walked:
    """Walk ``nodes``; ``inputs`` maps each graph input's key to ``(Field, name)``.

    Raises ``UnsupportedLayerError`` (from a node's ``read``) naming an unknown op, ``ShapeError``
    where rfcalc's shape differs from the framework's, ``RFError`` for a disconnected graph.
    """
    state = Walked([], set())
    identity = set(identity)
    refused: list = []  # layers rfcalc does not know, passed as identity until the end, then named together
    for key, (f, n) in inputs.items():
        state.fields[key], state.names[key] = f, n
    previous = last if last is not None else next(iter(inputs.values()))[1]
    todo = list(nodes)
    while todo:  # adapters give topological order; a second pass only happens for shared layers
        rest = []
        for node in todo:
            if all(k in state.fields for k in node.inputs):
                try:
                    previous = _visit(state, node, identity, input_hw, framework, previous, refused)
                except RFError:
                    if refused:  # perhaps a consequence of passing an unknown layer: name those first
                        raise refuse_all(refused) from None
                    raise
            else:
                rest.append(node)
        if len(rest) == len(todo):
            raise RFError(f"the graph is disconnected at layer '{rest[0].name}': its inputs are never computed")
        todo = rest
    if refused:
        raise refuse_all(refused)
    return state


def _visit(state: Walked, node: Node, identity: set, input_hw, framework: str, previous, refused=None):
    given = [state.fields[k] for k in node.inputs]
    if node.read is None:  # an alias: no row of its own
        state.fields[node.output], state.names[node.output] = given[0], state.names[node.inputs[0]]
        return previous
    # activations are Fields; anything else is a constant (a weight, a folded shape) that makes no row
    data = [(f, state.names[k]) for f, k in zip(given, node.inputs) if isinstance(f, Field)]
    fields, in_names = [f for f, _ in data], [n for _, n in data]
    chosen = identity & ({node.name, node.kind} | set(node.aliases)) if fields else set()
    state.used.update(chosen)
    try:
        if chosen:
            layer, more = Identity(node.kind), ()
            applied = as_identity(fields, *(node.weights() if node.weights else (0, 0)))
        else:
            layer, applied, more = _split(node.read(given))
            if layer is None:  # a constant computed from constants
                state.fields[node.output], state.names[node.output] = applied, node.name
                for k, v in zip(node.outputs, more):
                    state.fields[k], state.names[k] = v, node.name
                return previous
    except UnsupportedLayerError as err:
        if refused is None or not fields or getattr(err, "refused", None) is None:
            raise
        refused.append(err.refused)  # go on as identity, to find the others; walk() raises at the end
        chosen = {node.kind}
        layer, more = Identity(node.kind), ()
        applied = as_identity(fields, *(node.weights() if node.weights else (0, 0)))
    except RFError as err:
        raise type(err)(f"layer '{node.name}' ({node.kind}): {err}") from None
    if node.frozen:  # a frozen layer's weights count as non-trainable
        applied = replace(applied, trainable=0, non_trainable=applied.params)
    if node.expect is not None:
        _check_shape(node, applied.field.shape, node.expect, bool(chosen), framework)
    if "misaligned" in applied.flags:
        from ..render import fmt_jump, fmt_pair

        paths = ", ".join(
            f"{n} (jump {fmt_jump(f.jump)}, start {fmt_pair(f.start, ', ')})"
            for n, f in zip(in_names, fields)
            if f.rf is not None
        )
        warning = AlignmentWarning(
            f"merge layer '{node.name}' ({node.kind}) joins misaligned paths: {paths}; its field is "
            "the union of theirs (rf and start of the bounding box), its jump the first path's"
        )
        warning.layer = node.name
        warnings.warn(warning, stacklevel=5)
    inputs = tuple(in_names) if len(fields) > 1 or in_names[0] != previous else ()
    row = make_row(len(state.rows), node.name, layer, fields[0], applied, input_hw, inputs)
    state.rows.append(replace(row, kind=node.kind))
    state.fields[node.output], state.names[node.output] = applied.field, node.name
    for k, v in zip(node.outputs, more):  # after the row: they may replace its value
        state.fields[k], state.names[k] = v, node.name
    return node.name


def _split(result):
    if not isinstance(result, tuple):
        return None, result, ()
    return result if len(result) == 3 else (*result, ())


def _check_shape(node: Node, ours, theirs, as_identity: bool, framework: str):
    theirs = tuple(theirs)
    if len(ours) == len(theirs) and all(t is None or t == o for o, t in zip(ours, theirs)):
        return
    if as_identity:
        raise ShapeError(
            f"layer '{node.name}' ({node.kind}) changes the shape to {theirs}, so it cannot be treated "
            f"as identity. Received: input shape {ours}"
        )
    raise ShapeError(
        f"layer '{node.name}' ({node.kind}): rfcalc computes the output shape {ours} but {framework} "
        f"has {theirs}; rfcalc does not understand this layer's settings"
    )
