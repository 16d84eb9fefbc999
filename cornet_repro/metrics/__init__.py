"""Brain-Score metrics on xarray assemblies. Each takes assemblies and returns a :class:`Score`.

* :func:`neural_predictivity` (PLS, §3.1) and :func:`internal_consistency` (its ceiling)
* :func:`i2n`, :func:`i1`, :func:`behavioral_ceiling`, :func:`ceiled_i2n` (behaviour, §3.2)
* :func:`object_solution_times` (OST, §3.3)
* :func:`linear_transfer` (CIFAR-100, §3.4)
"""

from .behavior import behavioral_ceiling, ceiled_i2n, i1, i2n, logistic_probabilities
from .ceiling import internal_consistency, spearman_brown
from .neural import KernelPLSRegression, neural_predictivity
from .ost import OST_CEILING, ceiled_ost, object_solution_times
from .score import Score, ceil_score
from .transfer import linear_transfer

__all__ = [
    "Score", "ceil_score",
    "neural_predictivity", "KernelPLSRegression", "internal_consistency", "spearman_brown",
    "i2n", "i1", "behavioral_ceiling", "ceiled_i2n", "logistic_probabilities",
    "object_solution_times", "ceiled_ost", "OST_CEILING",
    "linear_transfer",
]
