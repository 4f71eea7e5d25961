"""``python -m fastbp``: the same as the ``fastbp`` command."""

import sys

from fastbp.cli import main

sys.exit(main())
