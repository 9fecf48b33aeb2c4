"""The ``glue-magics`` command: ``local-endpoint``, ``demo``, ``install-kernel``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="glue-magics", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    from glue_magics.local import cli as local_cli

    local_cli.add_parser(sub)
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
