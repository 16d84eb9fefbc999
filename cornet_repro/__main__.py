"""``python -m cornet_repro …`` is ``cornet-repro …`` (and what torchrun launches: ``-m cornet_repro train``)."""

import sys

from .cli import main

sys.exit(main())
