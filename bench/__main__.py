import sys

from bench.run import main

if __name__ == "__main__":  # the load process (spawn) re-imports this module: do not run again
    sys.exit(main())
