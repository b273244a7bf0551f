import sys

from helpers.simulator.server import main

sys.exit(main())
