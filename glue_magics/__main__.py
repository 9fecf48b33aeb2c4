import sys

from glue_magics.cli import main

sys.exit(main())
