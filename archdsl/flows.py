"""Reading an inferred model's forward pass back from the syntax tree, in execution order.

``Model`` records every instance with its shapes per use; the order in which a block applies its
members (and which branch of a conditional it takes) lives in the block's ``forward`` flow. The
summary and the graph both walk that flow here, as the generated torch code runs it in eval mode
(auxiliary heads skipped). Nothing here imports a framework.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archdsl.ir.evaluate import BlockRef, evaluate
from archdsl.ir.instantiate import Instance
from archdsl.ir.program import Program
from archdsl.syntax import ast


@dataclass
class BlockFlow:
    """One block instance's forward flow with what is needed to follow it."""

    inst: Instance
    flow: ast.Expr | None  # None: the children run in order
    program: Program
    groups: dict[str, list[str]] = field(default_factory=dict)
    _env: dict[str, Any] | None = None

    def members(self, name: str) -> list[Instance]:
        """The instances a name in the flow applies: a member, a loop group, or none (a member
        whose `when` guard was false)."""
        if name in self.inst.children:
            return [self.inst.children[name]]
        return [self.inst.children[n] for n in self.groups.get(name, [])]

    def env(self) -> dict[str, Any]:
        if self._env is None:
            self._env = block_env(self.program, self.inst)
        return self._env

    def condition(self, cond: ast.Expr) -> bool:
        return evaluate(cond, self.env()) is True


def block_flow(program: Program, inst: Instance) -> BlockFlow:
    """The flow of a block instance (``inst.kind == "block"``)."""
    decl = program.blocks[inst.type]
    fwd = next((s for s in decl.body if isinstance(s, ast.Forward)), None)
    named = _member_targets(decl.body)
    if fwd is None or ast.first_anonymous(decl.body) is not None:  # members applied in order
        return BlockFlow(inst, None, program)
    plain = {t.name for t in named if t.suffix is None}
    prefixes = sorted({t.name for t in named if t.suffix is not None}, key=len, reverse=True)
    groups: dict[str, list[str]] = {g: [] for g in prefixes}
    for child in inst.children:
        if child in plain:
            continue
        for g in prefixes:  # longest group name first
            if child.startswith(g):
                groups[g].append(child)
                break
    return BlockFlow(inst, fwd.flow, program, groups)


def block_env(program: Program, inst: Instance) -> dict[str, Any]:
    """The names a block's forward flow can read: block references, the instance's parameter
    values, ``in_channels`` and the top-level ``let`` values."""
    decl = program.blocks[inst.type]
    env: dict[str, Any] = {n: BlockRef(n) for n, b in program.blocks.items() if not b.is_arch}
    env.update(inst.args or {})
    if inst.in_shapes:
        env["in_channels"] = inst.in_shapes[0][0]
    for stmt in decl.body:
        if isinstance(stmt, ast.Let):
            env[stmt.name] = evaluate(stmt.value, env)
    return env


def _member_targets(body: tuple[ast.Stmt, ...]) -> list[ast.Target]:
    out: list[ast.Target] = []
    for stmt in body:
        if isinstance(stmt, ast.Member) and stmt.target is not None:
            out.append(stmt.target)
        elif isinstance(stmt, ast.For | ast.Repeat):
            out.extend(_member_targets(stmt.body))
    return out
