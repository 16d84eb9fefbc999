"""The CORnet family, the Fig. 4 circuitry variants, torchvision baselines and model depth.

Main entry points: :func:`get_model`, :func:`region_layers`, :class:`CORnetSConfig`,
:data:`FIG4_VARIANTS`, :func:`depth`, :func:`load_weights` (official weights); time steps -> ms
in :mod:`cornet_repro.models.time_mapping`. Tables about models for the book live in
:mod:`cornet_repro.reports`.
"""

from .config import FIG4_ROWS, FIG4_VARIANTS, CORnetSConfig, fig4_variant
from .cornet import CORnetR, CORnetRT, CORnetS, CORnetZ
from .depth import depth, layer_graph
from .registry import build_model, get_model, is_cornet_s_family, layer_config, list_models, region_layers
from .time_mapping import CORNET_S_TIME_MAPPING, select_step, step_windows
from .weights import WeightsError, load_state_dict, load_weights

__all__ = [
    "CORNET_S_TIME_MAPPING", "CORnetR", "CORnetRT", "CORnetS", "CORnetSConfig", "CORnetZ",
    "FIG4_ROWS", "FIG4_VARIANTS", "WeightsError", "build_model", "depth", "fig4_variant", "get_model",
    "is_cornet_s_family", "layer_config", "layer_graph", "list_models", "load_state_dict", "load_weights",
    "region_layers", "select_step", "step_windows",
]
