"""Specs that once compiled to models differing from `archdsl check` or failing to build (issue
classes "silently wrong models" and "accepted specs whose code does not build"). Each is now
either refused by check, for both backends alike, or builds in torch and Keras with archdsl's
figures and one function."""

from __future__ import annotations

from pathlib import Path

import pytest

from archdsl.compiler import analyse, compile_spec
from archdsl.errors import ArchError
from tests.helpers import assert_backends_agree

NET = "arch Net(%s) {\n  input [3, 8, 8]\n%s\n}\n"
BUILDS = {
    # list defaults print as tuples; comparing or extending them is done on lists
    "list_compared_in_when": NET
    % ("layers: list = [1, 2]", "  c = conv2d(4)\n  d = conv2d(4, kernel=1) when layers == [1, 2]\n"
       "  forward: c -> d"),
    "list_compared_in_let": NET
    % ("layers: list = [1, 2]", "  let same = layers == [1, 2]\n  c = conv2d(4)\n"
       "  d = conv2d(4, kernel=1) when same\n  forward: c -> d"),
    "list_extended": NET
    % ("layers: list = [1, 2]", "  let more = layers + [4]\n  f = sequential {\n"
       "    for n in more {\n      conv2d(n)\n    }\n  }\n  forward: f"),
    # loop members whose names end in digits or take string suffixes
    "loop_members_ending_in_digits": NET
    % ("", "  for i in [1, 2] {\n    conv1{i} = conv2d(3, kernel=1)\n  }\n  forward: conv1"),
    "loop_members_with_string_suffixes": NET
    % ("", '  for s in ["a", "b"] {\n    conv_{s} = conv2d(3, kernel=1)\n  }\n  forward: conv_'),
    # Keras refuses strides > 1 with dilation > 1; torch takes it
    "stride_and_dilation": "arch Net() {\n  input [3, 16, 16]\n"
    "  c = conv2d(4, kernel=3, stride=2, dilation=2, padding=2)\n  forward: c\n}\n",
    "stride_and_dilation_from_parameters": "block D(stride: int, dilation: int) {\n"
    "  c = conv2d(4, kernel=3, stride=stride, dilation=dilation, padding=dilation)\n"
    "  forward: c\n}\n" + NET % ("", "  a = D(2, 2)\n  b = D(1, 3)\n  e = D(2, 1)\n"
                                 "  forward: a -> b -> e"),
    # members applied on one side of a condition only (once refused with E0403): they exist
    # when that side is taken, in torch's constructor and in Keras alike
    "member_on_the_side_not_taken": NET
    % ("wide: bool = false", "  a = conv2d(4, kernel=3)\n  b = conv2d(8, kernel=3)\n"
       "  forward: a if wide else b"),
    "member_on_the_side_taken": NET
    % ("wide: bool = true", "  a = conv2d(4, kernel=3)\n  b = conv2d(8, kernel=3)\n"
       "  forward: a if wide else b"),
    "members_under_nested_conditions": NET
    % ("wide: bool = true, deep: bool = false", "  a = conv2d(4, kernel=3)\n"
       "  b = conv2d(8, kernel=3)\n  c = conv2d(6, kernel=1)\n  d = conv2d(6, kernel=1)\n"
       "  forward: ((a -> c) if deep else a) if wide else (b -> d)"),
}  # fmt: skip
REFUSED = {
    # a block parameter named like a layer would be called as the layer in one place
    "block_parameter_named_like_a_layer": (
        "block B() {\n  c = conv2d(4)\n  forward: c\n}\n"
        "block Wrap(conv2d: block = B) {\n  inner = conv2d()\n  forward: inner\n}\n"
        + NET
        % ("", "  w = Wrap()\n  forward: w"),
        "E0224",
    ),
    # an arch has no in_channels (its input is declared); the generated code had none either
    "in_channels_in_an_arch": (NET % ("", "  c = conv2d(in_channels)\n  forward: c"), "E0220"),
    # torch shares a reused member's weights, Keras made a second layer
    "member_with_weights_used_twice": (
        NET % ("", "  c = conv2d(3, kernel=1)\n  forward: c -> c"),
        "E0227",
    ),
    "member_with_weights_in_two_branches": (
        NET % ("", "  c = conv2d(3, kernel=1)\n  forward: add(c, c)"),
        "E0227",
    ),
    # a member applied only under a condition on a value defined after it: its constructor
    # could not test the condition where it builds the member
    "member_applied_under_a_later_let": (
        NET
        % (
            "wide: bool = false",
            "  a = conv2d(4, kernel=3)\n  b = conv2d(8, kernel=3)\n"
            "  let w = wide\n  forward: a if w else b",
        ),
        "E0403",
    ),
    # torch's mode flag
    "parameter_named_training": (
        NET % ("training: bool = true", "  c = conv2d(4)\n  forward: c"),
        "E0202",
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_by_check_and_both_backends(name: str, tmp_path: Path) -> None:
    text, code = REFUSED[name]
    path = tmp_path / "spec.arch"
    path.write_text(text)
    for run in (
        lambda: analyse(path),
        lambda: compile_spec(path, "torch"),
        lambda: compile_spec(path, "keras"),
    ):
        with pytest.raises(ArchError) as err:
            run()
        assert err.value.diagnostics[0].code == code


@pytest.mark.framework
@pytest.mark.parametrize("name", sorted(BUILDS))
def test_builds_what_check_predicts(name: str, tmp_path: Path) -> None:
    assert_backends_agree(BUILDS[name], tmp_path)
