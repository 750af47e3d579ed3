import sys

from catalog_view.cli import main

sys.exit(main())
