import sys

from spamclf.cli import main

sys.exit(main())
