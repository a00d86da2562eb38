import sys

from lambent.cli.main import main

sys.exit(main())
