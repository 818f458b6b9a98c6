import sys

from app.slo.cli import main

sys.exit(main())
