"""Run the ``clinicbox`` command as ``python -m appliance``."""

import sys

from appliance.cli import main

if __name__ == "__main__":
    sys.exit(main())
