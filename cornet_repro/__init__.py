"""cornet-repro: an executable edition of Kubilius, Schrimpf et al. (NeurIPS 2019).

Subpackages: ``models`` (the CORnet family), ``data`` (published, real and simulated data),
``metrics`` (Brain-Score metrics), ``figures`` (one module per paper figure).
"""

__version__ = "0.1.0"
