import sys

from helpers.simulator.cli import main

sys.exit(main())
