"""Lowering of an arch's `init` rules: the selector resolved, the function and its arguments
checked, every argument filled in (``archdsl.initializers``).

A numeric argument may be an expression of the arch's parameters (ViT's
``trunc_normal(std=(1 / (3 * patch_size ** 2)) ** 0.5)``); it stays an expression in the
lowered rule, which the backends print over the generated model's parameters, and is checked
here with the values of this compilation (the model's, variant and ``--set`` applied)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from archdsl import initializers
from archdsl.errors import ArchError, error
from archdsl.ir import lowered as L
from archdsl.ir.evaluate import evaluate
from archdsl.layers.registry import all_layers, get_layer
from archdsl.names import did_you_mean
from archdsl.syntax import ast

_HELP = (
    "select a layer kind (`conv2d.weight`), a member of a block (`Bottleneck.bn3.weight`) or "
    "a member of the arch (`fc.weight`, `classifier.1.weight` for a sequence's item), or a "
    "layer inside block members (`InceptionAux.conv1.conv.weight`)"
)


def lower_rules(
    blocks: dict[str, ast.BlockDecl],
    arch: ast.BlockDecl,
    conv: Callable[[ast.Expr], L.Expr],
    values: Mapping[str, Any],
) -> tuple[L.Init, ...]:
    """``values``: the arch's parameters in this compilation, which check the rules' arguments."""
    for decl in blocks.values():
        if not decl.is_arch:
            stray = next((s for s in decl.body if isinstance(s, ast.Init)), None)
            if stray is not None:
                raise error(
                    "E0229",
                    "`init` rules belong to the arch",
                    stray.span,
                    f"in block `{decl.name}`",
                    help="move it into the arch and select the member as "
                    f"`{decl.name}.<member>.<tensor>`",
                )
    return tuple(
        _rule(blocks, arch, stmt, conv, values) for stmt in arch.body if isinstance(stmt, ast.Init)
    )


def _rule(
    blocks: dict[str, ast.BlockDecl],
    arch: ast.BlockDecl,
    stmt: ast.Init,
    conv: Callable[[ast.Expr], L.Expr],
    values: Mapping[str, Any],
) -> L.Init:
    """The rule, its tensor the path's last name, else (a layer's tensor of a part of it:
    `window_attention.qkv.weight`) its last two or three."""
    try:
        return _rule_at(blocks, arch, stmt, conv, values, 1)
    except ArchError as first:
        found = first  # the error of the reading that names a layer's dotted tensor, if any
        for depth in (2, 3):
            if len(stmt.path) > depth and ".".join(stmt.path[-depth:]) in _dotted_tensors():
                try:
                    return _rule_at(blocks, arch, stmt, conv, values, depth)
                except ArchError as err:
                    found = err
        raise found from None


def _dotted_tensors() -> set[str]:
    return {t for layer in all_layers().values() for t, _ in layer.tensors if "." in t}


def _rule_at(
    blocks: dict[str, ast.BlockDecl],
    arch: ast.BlockDecl,
    stmt: ast.Init,
    conv: Callable[[ast.Expr], L.Expr],
    values: Mapping[str, Any],
    depth: int,
) -> L.Init:
    selector, tensor = list(stmt.path[:-depth]), ".".join(stmt.path[-depth:])
    head = selector[0]
    block: str | None = None
    member: str | None = None
    item: int | None = None
    absent_member = absent_tensor = False
    path: list[str] = []  # members below `member`, each of the block the one before builds
    through: list[str] = []  # the blocks that own them
    absent_path: list[bool] = []
    kind = get_layer(head)
    if kind is not None and head not in blocks and len(selector) == 1:
        layer = kind
        absent_tensor = layer.flag_of(tensor) is not None
    else:
        owner = arch
        rest = selector
        if head in blocks and head != arch.name:
            owner, block, rest = blocks[head], head, selector[1:]
        names = rest[:-1] if len(rest) > 1 and rest[-1].isdigit() else rest
        if not names or any(n.isdigit() for n in names):
            raise error("E0230", f"`{'.'.join(stmt.path)}` selects no layer", stmt.span, help=_HELP)
        member = names[0]
        found = None
        for depth, name in enumerate(names):
            if depth:  # through a block member: the block it builds owns the next name
                built = found.module  # type: ignore[union-attr]
                callee = built.func if isinstance(built, ast.Call) else None
                if callee is None or callee not in blocks:
                    raise error(
                        "E0230",
                        f"`{'.'.join([head] * bool(block) + names[:depth])}` is not a block",
                        stmt.span,
                        help="a selector reaches a layer through members that call a block by "
                        "its name",
                    )
                owner = blocks[callee]
                through.append(owner.name)
                path.append(name)
            found = _member(owner, name)
            if found is None:
                members = [
                    s.target.name for s in owner.body if isinstance(s, ast.Member) and s.target
                ]
                raise error(
                    "E0230",
                    f"`{owner.name}` has no member `{name}`",
                    stmt.span,
                    "selected here",
                    help=did_you_mean(name, members) or _HELP,
                )
            if depth:
                absent_path.append(found.guard is not None)
            else:
                absent_member = found.guard is not None
        call: Any = found.module  # type: ignore[union-attr]
        if len(rest) > len(names):
            item = int(rest[-1])
            items = call.body if isinstance(call, ast.Sequential) else ()
            plain = all(isinstance(s, ast.Member) and s.guard is None for s in items)
            if not items or not plain or item >= len(items):
                raise error(
                    "E0230",
                    f"`{names[-1]}` has no item {item}",
                    stmt.span,
                    help="an item is selected in a `sequential` of fixed items, numbered from 0",
                )
            call = items[item].module  # type: ignore[union-attr]
        target = get_layer(call.func) if isinstance(call, ast.Call) else None
        if target is None or call.func in blocks:
            raise error(
                "E0230",
                f"`{'.'.join(stmt.path[:-1])}` is not a layer",
                stmt.span,
                help="`init` sets a tensor of a layer (conv2d, linear, batchnorm2d, ...)",
            )
        layer = target
        given = {k.name: k.value for k in call.kwargs}
        name = layer.flag_of(tensor)
        flag = given.get(name) if name is not None else None
        if name is not None:
            if isinstance(flag, ast.Bool) and not flag.value:
                raise error(
                    "E0230",
                    f"`{'.'.join(stmt.path[:-1])}` has no {tensor} (`{name}=false`)",
                    stmt.span,
                )
            absent_tensor = flag is not None
    tensors = [t for t, _ in layer.tensors]
    if tensor not in tensors:
        raise error(
            "E0230",
            f"a `{layer.name}` has no tensor `{tensor}`",
            stmt.span,
            help=f"its tensors: {', '.join(tensors)}" if tensors else "it has no weights",
        )
    params = {p.name for p in arch.params}
    func, args = _function(stmt.value, params, values, conv)
    if stmt.guard is not None:
        other = sorted(ast.free_names(stmt.guard) - params)
        if other:
            raise error(
                "E0230",
                "an `init` condition reads only the arch's parameters",
                stmt.guard.span,
                f"`{other[0]}` is not one",
                help="the condition is decided once the model is built, from its parameters",
            )
    return L.Init(
        layer=layer.name,
        tensor=tensor,
        block=block,
        member=member,
        path=tuple(path),
        through=tuple(through),
        absent_path=tuple(absent_path),
        item=item,
        func=func,
        args=args,
        guard=None if stmt.guard is None else conv(stmt.guard),
        absent_member=absent_member,
        absent_tensor=absent_tensor,
    )


def _member(decl: ast.BlockDecl, name: str) -> ast.Member | None:
    for s in decl.body:
        if isinstance(s, ast.Member) and s.target is not None and s.target.suffix is None:
            if s.target.name == name:
                return s
    return None


def _function(
    call: ast.Call,
    params: set[str],
    values: Mapping[str, Any],
    conv: Callable[[ast.Expr], L.Expr],
) -> tuple[str, tuple[L.Argument, ...]]:
    """The function and every argument by name: a constant where the spec's argument reads no
    parameter (the value, defaults filled in), else the expression; every value is checked
    with the parameters' ``values``."""
    fn = initializers.FUNCTIONS.get(call.func)
    if fn is None:
        raise error(
            "E0231",
            f"unknown initialisation `{call.func}`",
            call.span,
            "not an initialisation function",
            help=did_you_mean(call.func, initializers.FUNCTIONS)
            or f"available: {', '.join(initializers.FUNCTIONS)}",
        )
    names = [p.name for p in fn.params]
    given: list[tuple[str | None, ast.Expr]] = [
        (names[i] if i < len(names) else None, a) for i, a in enumerate(call.args)
    ]
    given += [(k.name, k.value) for k in call.kwargs]
    reads: dict[str, ast.Expr] = {}  # argument -> its expression, where it reads parameters
    read: set[str] = set()
    for name, expr in given:
        free = ast.free_names(expr)
        if not free:
            continue
        other = sorted(free - params)
        if other:
            raise error(
                "E0231",
                f"the arguments of `{call.func}` read only the arch's parameters",
                expr.span,
                f"`{other[0]}` is not one",
                help="write numbers, strings and expressions of the arch's parameters, e.g. "
                "`trunc_normal(std=(1 / width) ** 0.5)`",
            )
        param = next((p for p in fn.params if p.name == name), None)
        if param is not None and param.choices:
            raise error(
                "E0231",
                f"`{name}` of `{call.func}` is a constant",
                expr.span,
                f"reads `{sorted(free)[0]}`",
                help=f"write one of {', '.join(map(repr, param.choices))}",
            )
        if name is not None:
            reads[name] = expr
        read |= free
    env = {n: values[n] for n in read if n in values}
    where = ", with " + ", ".join(f"{n} = {env[n]!r}" for n in sorted(env)) if env else ""
    fix = (
        "the model's parameters give the arguments these values; change the expression or "
        "the parameters"
        if env
        else None
    )
    try:
        args = [evaluate(a, env) for a in call.args]
        kwargs = {k.name: evaluate(k.value, env) for k in call.kwargs}
    except ArchError as e:
        raise error(
            "E0231",
            f"an argument of `{call.func}` cannot be computed",
            call.span,
            (e.diagnostics[0].message if e.diagnostics else "") + where,
            help=fix,
        ) from None
    try:
        bound = initializers.bind(fn, args, kwargs)
    except ValueError as e:
        raise error("E0231", str(e), call.span, f"in `{call.func}`{where}", help=fix) from None
    return fn.name, tuple(
        L.Argument(name=k, value=conv(reads[k]) if k in reads else L.Const(value=v))
        for k, v in bound.items()
    )
