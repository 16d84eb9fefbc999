"""Model depth as the paper defines it, computed from a traced graph.

Depth is "the number of convolutional and fully connected layers in the longest feedforward path
of a model" (§2); recurrence is folded, each layer counting once. The computation:

1. trace the model with ``torch.fx`` (convolutions and linear layers are kept as leaves), which
   unrolls every time step;
2. fold the unrolled graph into a *layer graph* with one node per layer (a convolution / linear
   module, or a functional ``conv*d``/``linear`` call on a module's weight);
3. keep only the *feedforward* edges: those into the call where the signal first reaches a layer
   (its first call that receives the output of another layer). Later calls of the same layer are
   recurrence and add no edges: CORnet-S's ``skip -> conv1`` and ``conv3 -> conv1`` only exist
   from t = 1 on. Ops that only read a tensor's shape (``new_zeros``, ``.shape``, ...) carry no
   signal;
4. the depth is the number of layers on the longest path of that graph (a cycle that survives
   step 3 -- none does in the models here -- counts all of its layers once).

For feedforward networks this is the number of layers on the longest input-to-output path
(ResNet-50: 1 + 16 x 3 + 1 = 50; shortcut projections lie on shorter parallel paths). For CORnet-S:
V1 (2) + 3 areas x (conv_input + conv1..conv3) + decoder = 15; CORnet-RT/R: 4 x 2 + 1 = 9.
"""

from __future__ import annotations


import networkx as nx
import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

__all__ = ["LAYER_TYPES", "depth", "layer_graph"]

#: Modules that count as one layer.
LAYER_TYPES: tuple[type[nn.Module], ...] = (
    nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d,
    nn.Linear, nn.Bilinear,
)
_LAYER_FUNCTIONS = {F.conv1d, F.conv2d, F.conv3d, F.conv_transpose1d, F.conv_transpose2d,
                    F.conv_transpose3d, F.linear, torch.conv1d, torch.conv2d, torch.conv3d}


class _LayerTracer(torch.fx.Tracer):
    """Keeps every layer (including subclasses such as CORnet-S's ``StrideConv2d``) as one call."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return isinstance(m, LAYER_TYPES) or super().is_leaf_module(m, module_qualified_name)


def _weight_owner(node: torch.fx.Node) -> str | None:
    """For a functional conv/linear call, the name of the module owning its weight, if traceable."""
    weight = node.args[1] if len(node.args) > 1 else node.kwargs.get("weight")
    if isinstance(weight, torch.fx.Node) and weight.op == "get_attr":
        return weight.target.rsplit(".", 1)[0] if "." in weight.target else weight.target
    return None


_SHAPE_ATTRS = {"shape", "dtype", "device", "ndim", "is_cuda"}
_SHAPE_METHODS = {"size", "dim", "new_zeros", "new_ones", "new_empty", "new_full"}
_SHAPE_FUNCTIONS = {torch.zeros_like, torch.ones_like, torch.empty_like}


def _shape_only(node: torch.fx.Node) -> bool:
    """Nodes whose value depends on their inputs' shapes only, not on the data."""
    if node.op == "call_method":
        return node.target in _SHAPE_METHODS
    if node.op == "call_function":
        if node.target is getattr:
            return len(node.args) > 1 and node.args[1] in _SHAPE_ATTRS
        return node.target in _SHAPE_FUNCTIONS
    return False


def layer_graph(model: nn.Module, concrete_args: dict | None = None) -> nx.DiGraph:
    """The folded feedforward layer graph of ``model``: one node per layer, an edge ``a -> b`` when
    ``a`` feeds ``b`` where the signal first reaches ``b`` (see the module docstring).

    The model is traced in eval mode (training-only branches such as Inception's auxiliary head
    are left out) and restored to its previous mode. Building the model on the meta device
    (``with torch.device('meta'): ...``) is enough: nothing is executed.
    """
    was_training = model.training
    model.eval()
    try:
        graph = _LayerTracer().trace(model, concrete_args=concrete_args)
    finally:
        model.train(was_training)
    modules = dict(model.named_modules())

    layers = nx.DiGraph()
    # frontier[node] = the layers whose outputs reach this node without crossing another layer
    frontier: dict[torch.fx.Node, frozenset[str]] = {}
    reached: set[str] = set()  # layers whose feedforward inputs are known
    for node in graph.nodes:
        if _shape_only(node):
            frontier[node] = frozenset()
            continue
        upstream: set[str] = set()
        for parent in node.all_input_nodes:
            upstream |= frontier[parent]
        name = None
        if node.op == "call_module" and isinstance(modules.get(node.target), LAYER_TYPES):
            name = node.target
        elif node.op == "call_function" and node.target in _LAYER_FUNCTIONS:
            name = _weight_owner(node) or f"{node.target.__name__}:{node.name}"
        if name is None:
            frontier[node] = frozenset(upstream)
            continue
        layers.add_node(name)
        upstream.discard(name)
        if upstream and name not in reached:
            # First call fed by other layers: these are the feedforward inputs of this layer.
            layers.add_edges_from((u, name) for u in upstream)
            reached.add(name)
        frontier[node] = frozenset({name})
    return layers


def depth(model: nn.Module, concrete_args: dict | None = None) -> int:
    """The paper's depth of ``model``: layers on the longest feedforward path, recurrence folded."""
    layers = layer_graph(model, concrete_args)
    if layers.number_of_nodes() == 0:
        return 0
    condensed = nx.condensation(layers)  # strongly connected components -> DAG
    best: dict[int, int] = {}
    for component in nx.topological_sort(condensed):
        weight = len(condensed.nodes[component]["members"])
        best[component] = weight + max((best[p] for p in condensed.predecessors(component)), default=0)
    return max(best.values())
