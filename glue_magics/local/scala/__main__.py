"""``python -m glue_magics.local.scala RESULT_FD PARENT_PID``: see the package."""

import sys

from glue_magics.local.scala import main

sys.exit(main())
