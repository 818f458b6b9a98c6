import sys

from app.report.cli import main

sys.exit(main())
