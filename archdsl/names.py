"""Identifier rules shared by the resolver and the backends (guarantee G1), and "did you mean"."""

from __future__ import annotations

import keyword
import re

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

# Names the generated modules use themselves, and the spec language's own scope names.
RESERVED = frozenset(
    {
        "torch", "nn", "F", "Tensor", "keras", "ops", "np", "self", "forward", "super",
        "x", "name", "inputs", "outputs", "input_shape", "model", "math", "annotations",
        "make_divisible", "in_channels", "index", "first", "last", "print", "eval",
        "exec", "open", "input", "type", "object", "list", "int", "float", "bool", "str", "range",
        "len", "min", "max", "round", "zip", "sum", "abs", "None", "True", "False", "init",
        "include_top", "pooling", "classifier_activation", "features_only",
    }
)  # fmt: skip


# Every generated torch class is an nn.Module (blocks without a forward an nn.Sequential, loops
# build nn.ModuleList-like lists): a member, parameter or value named like one of its attributes
# would replace it (`training` is the mode flag). The attributes of torch 2.14's nn.Sequential and
# nn.ModuleList (tests/test_registry.py compares), `out_channels`, which generated blocks set, and
# the methods and attributes of an arch with a classifier head and feature stages.
TORCH_MODULE_ATTRIBUTES = frozenset(
    {
        "T_destination", "_apply", "_backward_hooks", "_backward_pre_hooks", "_buffers",
        "_call_impl", "_compiled_call_impl", "_forward_hooks", "_forward_hooks_always_called",
        "_forward_hooks_with_kwargs", "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs",
        "_get_abs_string_index", "_get_backward_hooks", "_get_backward_pre_hooks",
        "_get_item_by_idx", "_get_name", "_is_full_backward_hook", "_load_from_state_dict",
        "_load_state_dict_post_hooks", "_load_state_dict_pre_hooks",
        "_maybe_warn_non_full_backward_hook", "_modules", "_named_members",
        "_non_persistent_buffers_set", "_parameters", "_register_load_state_dict_pre_hook",
        "_register_state_dict_hook", "_replicate_for_data_parallel", "_save_to_state_dict",
        "_slow_forward", "_state_dict_hooks", "_state_dict_pre_hooks", "_version",
        "_wrapped_call_impl", "add_module", "append", "apply", "bfloat16", "buffers",
        "call_super_init", "children", "compile", "cpu", "cuda", "double", "dump_patches", "eval",
        "extend", "extra_repr", "float", "forward", "get_buffer", "get_extra_state",
        "get_parameter", "get_submodule", "half", "insert", "ipu", "load_state_dict", "modules",
        "mtia", "named_buffers", "named_children", "named_modules", "named_parameters",
        "parameters", "pop", "register_backward_hook", "register_buffer", "register_forward_hook",
        "register_forward_pre_hook", "register_full_backward_hook",
        "register_full_backward_pre_hook", "register_load_state_dict_post_hook",
        "register_load_state_dict_pre_hook", "register_module", "register_parameter",
        "register_state_dict_post_hook", "register_state_dict_pre_hook", "requires_grad_",
        "set_extra_state", "set_submodule", "share_memory", "state_dict", "to", "to_empty",
        "train", "training", "type", "xpu", "zero_grad",
        "out_channels",
        "forward_features", "forward_head", "reset_classifier", "head_hidden_size",
        "forward_stages", "feature_info",
    }
)  # fmt: skip

# Names the generated modules define or import at module level (imports and helpers): no block,
# arch or factory may take one.
MODULE_NAMES = frozenset(
    {
        "annotations", "math", "Any", "Callable", "Sequence", "torch", "nn", "Tensor", "keras",
        "make_divisible", "StochasticDepth", "ceil_extra", "adaptive_avg_pool2d", "NamedTuple",
        "Optional", "CeilPadding", "AdaptiveAveragePooling2D", "channel_order", "torch_weight",
        "torch_bias", "TruncNormal", "_pair", "FEATURE_INFO", "feature_model", "same_padding",
    }
)  # fmt: skip


def bad_identifier(name: str) -> str | None:
    """Why ``name`` may not name a block, parameter, member or variable; None if it may."""
    if not IDENT.fullmatch(name):
        return "identifiers are at most 64 ASCII letters, digits and underscores"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"`{name}` is a Python keyword"
    if name.startswith("__"):
        return "identifiers may not start with `__`"
    if name in RESERVED:
        return f"`{name}` is reserved for the generated code"
    if name in TORCH_MODULE_ATTRIBUTES:
        return f"`{name}` is an attribute of torch's nn.Module, which every generated class is"
    return None


# A quoted member name's value (``"block{stage}-{index}"``): one part of a state_dict key, which
# is also a Keras layer name's part, so it needs no escaping anywhere it is written.
MEMBER_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


def bad_member_key(name: str) -> str | None:
    """Why ``name`` may not name a member given by a quoted name; None if it may. torch's
    ``add_module`` refuses an empty name, a `.` and a name that is an attribute already."""
    if not name:
        return "the name is empty"
    if "." in name:
        return "`.` separates the parts of a state_dict key"
    if not MEMBER_KEY.fullmatch(name):
        return "member names are at most 64 ASCII letters, digits, `_` and `-`"
    if name.startswith("__"):
        return "member names may not start with `__`"
    if name in TORCH_MODULE_ATTRIBUTES:
        return f"`{name}` is an attribute of torch's nn.Module, which every generated class is"
    return None


MAX_SUGGESTION_CANDIDATES = 100  # names compared with an unknown one, at most


def did_you_mean(name: str, candidates: object) -> str | None:
    """A close match among ``candidates``. At most ``MAX_SUGGESTION_CANDIDATES`` of them are
    compared in full (those starting with the same letter first, then the closest in length), so
    a spec with thousands of names does not make each unknown name cost thousands of
    comparisons; a suggestion may then be missed, never wrong."""
    names = sorted({str(c) for c in candidates})  # type: ignore[attr-defined]
    shortlist = names
    if len(names) > MAX_SUGGESTION_CANDIDATES:
        n, head = len(name), name[:1].lower()
        near = [c for c in names if abs(len(c) - n) <= 2]  # farther ones cannot pass 0.6 often
        same = [c for c in near if c[:1].lower() == head]
        shortlist = sorted(same, key=lambda c: abs(len(c) - n))[:MAX_SUGGESTION_CANDIDATES]
        if len(shortlist) < MAX_SUGGESTION_CANDIDATES:
            rest = sorted((c for c in near if c[:1].lower() != head), key=lambda c: abs(len(c) - n))
            shortlist += rest[: MAX_SUGGESTION_CANDIDATES - len(shortlist)]
    import difflib  # only errors ask: not imported by every process

    close = difflib.get_close_matches(name, shortlist, n=1, cutoff=0.6)
    if not close:
        lowered = {n.lower(): n for n in names}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f"did you mean `{close[0]}`?" if close else None


def snake_case(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    s = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", s)
    return s.lower()


# Keras layer names spell torch module paths with this separator: Keras 3 on torch refuses
# dots, and `>` appears in no torch module name and is valid in TensorFlow op names.
KERAS_PATH_SEPARATOR = ">"


def torch_path(keras_name: str) -> str:
    """The torch module path a generated Keras layer name stands for."""
    return keras_name.replace(KERAS_PATH_SEPARATOR, ".")


class Namer:
    """Local names for one generated function that clash with nothing else in it."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)

    def new(self, base: str) -> str:
        name, n = base, 1
        while name in self.taken:
            name = f"{base}_{n}"
            n += 1
        self.taken.add(name)
        return name
