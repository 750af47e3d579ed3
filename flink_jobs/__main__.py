import sys

from flink_jobs.main import main

sys.exit(main())
