"""The CORnet family, the Fig. 4 circuitry variants, torchvision baselines and model depth.

Main entry points: :func:`get_model`, :func:`region_layers`, :class:`CORnetSConfig`,
:data:`FIG4_PRESETS`, :func:`depth`, :func:`load_checkpoint`; time steps -> ms in
:mod:`cornet_repro.models.time_mapping`.
"""

from .checkpoints import CheckpointError, load_checkpoint, load_state_dict
from .config import FIG4_PRESETS, FIG4_ROWS, CORnetSConfig, fig4_preset
from .cornet import CORnetR, CORnetRT, CORnetS, CORnetZ
from .depth import depth, depth_table, layer_graph
from .time_mapping import CORNET_S_TIME_MAPPING, select_step, step_windows
from .zoo import fig4_preset_table, get_model, list_models, region_layers

__all__ = [
    "CORNET_S_TIME_MAPPING", "CORnetR", "CORnetRT", "CORnetS", "CORnetSConfig", "CORnetZ",
    "CheckpointError", "FIG4_PRESETS", "FIG4_ROWS", "depth", "depth_table", "fig4_preset",
    "fig4_preset_table", "get_model", "layer_graph", "list_models", "load_checkpoint",
    "load_state_dict", "region_layers", "select_step", "step_windows",
]
