"""`python -m helpers.prepare_data -f FILE [-q]`; see command.py and README.md."""

import sys

from helpers.prepare_data.command import main

sys.exit(main())
