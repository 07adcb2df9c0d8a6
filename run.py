#!/usr/bin/env python3
"""统战助手 entry point: `python run.py [VERB …]` (see README and INTERFACE.md)."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
