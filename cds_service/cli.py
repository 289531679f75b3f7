"""``lenalidomide-cds``: the console commands, one subcommand per module of ``cds_service/console/``.

Each module there has ``register(subparsers)``, which adds its subparser and sets ``handler`` (a function
taking the parsed arguments and returning the exit code). The commands reuse facts and rules in process;
none goes through HTTP.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from .version import package_version

# Subcommand modules under cds_service/console/, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = ("purge", "policy", "cards")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lenalidomide-cds", description=__doc__.split("\n", 1)[0].strip("`"))
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        import_module(f"cds_service.console.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
