"""The layer registry: one entry per layer type (schema, shape rule, count rule, templates)."""

from archdsl.layers.registry import REGISTRY, LayerType, get_layer

__all__ = ["REGISTRY", "LayerType", "get_layer"]
