"""The course's command line: ``python -m kubenet_lab COMMAND``.

``build-site OUTDIR [--notebooks DIR]``
    the lessons as an offline static site (``kubenet_lab.site.build_site``).
``teaching-solutions [--file PATH] [--notebooks DIR] [--check]``
    regenerate the generated parts of docs/teaching.md (the plans, the lesson table and
    the solutions); with ``--check``, only say whether they are out of date (exit 1).
``linux-check [--keep] [--cleanup]``
    the lab against the real Linux kernel (root; ``kubenet_lab.linux.check``): one line
    per disagreement, then ``linux check: N probes, M agree``; exit 0 only when all
    agree, 1 on a disagreement, 2 when it cannot run (not Linux, not root, a tool
    missing). ``--keep`` leaves the last cluster's namespaces; ``--cleanup`` only
    removes every ``kln-``/``klp-`` namespace.

Bad arguments get a short message and exit code 2 (argparse's convention for usage
errors), never a traceback; a file that cannot be written, exit code 1.

Examples
--------
>>> main(["build-site"])
Traceback (most recent call last):
SystemExit: 2
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from kubenet_lab.exceptions import KubenetLabError

__all__ = ["main"]

PROG = "python -m kubenet_lab"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="The kubenet-lab course's tools.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    site = commands.add_parser(
        "build-site", help="write the lessons as an offline static site",
        description="Write OUTDIR/index.html (the lesson map) and one page per lesson, with "
        "the outputs stored in the notebooks; the pages load nothing from the network. "
        "Publish by copying OUTDIR to any static host (GitHub Pages, say).")
    site.add_argument("outdir", metavar="OUTDIR", help="the folder to write (created)")
    site.add_argument("--notebooks", metavar="DIR",
                      help="the lesson notebooks (default: notebooks/ of the checkout)")
    teaching = commands.add_parser(
        "teaching-solutions", help="regenerate the generated parts of docs/teaching.md",
        description="Rewrite the plans, the lesson table and the solutions of "
        "docs/teaching.md from the notebooks and the exercises (between their markers).")
    teaching.add_argument("--file", metavar="PATH",
                          help="the guide to update (default: docs/teaching.md of the checkout)")
    teaching.add_argument("--notebooks", metavar="DIR",
                          help="the lesson notebooks (default: notebooks/ of the checkout)")
    teaching.add_argument("--check", action="store_true",
                          help="change nothing; exit 1 if the guide is out of date")
    linux = commands.add_parser(
        "linux-check", help="compare the lab with the real Linux kernel (root)",
        description="Build the standard clusters from real network namespaces, veth "
        "pairs, bridges, VXLAN and iptables/nftables rules, and compare every probe's "
        "trace with a real connection. Needs Linux, root, iproute2, iptables, nftables.")
    linux.add_argument("--keep", action="store_true",
                       help="leave the last cluster's namespaces (kln-*, klp-*) for inspection")
    linux.add_argument("--cleanup", action="store_true",
                       help="only remove every kln-*/klp-* network namespace")
    return parser


def _linux_check(args: argparse.Namespace) -> int:
    from kubenet_lab.linux import check, cleanup, require

    require()
    if args.cleanup:
        removed = cleanup()
        sys.stdout.write(f"removed {len(removed)} namespaces\n")
        return 0
    start = time.perf_counter()

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def progress(line: str) -> None:
        sys.stderr.write(f"# {line}\n")
        sys.stderr.flush()

    report = check(keep=args.keep, out=say, progress=progress)
    progress(f"{time.perf_counter() - start:.1f} s")
    say(report.summary())
    return 0 if not report.disagreements else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_usage(sys.stderr)
        sys.stderr.write(f"{PROG}: error: name a command: build-site, teaching-solutions "
                         "or linux-check\n")
        return 2
    if args.command == "linux-check":
        try:
            return _linux_check(args)
        except KubenetLabError as err:
            sys.stderr.write(f"{PROG} {args.command}: error: {err}\n")
            return 2
    from kubenet_lab.site import build_site, default_teaching_file, update_teaching

    try:
        if args.command == "build-site":
            start = time.perf_counter()
            built = build_site(args.outdir, notebooks=args.notebooks)
            sys.stdout.write(f"{built}\n({time.perf_counter() - start:.1f} s)\n")
            if built.broken_links:
                sys.stderr.write(f"{PROG} build-site: warning: {len(built.broken_links)} "
                                 "links point to no file of the site (listed above)\n")
            return 0
        stale = update_teaching(args.file, notebooks=args.notebooks,
                                     write=not args.check)
        guide = args.file or default_teaching_file()
        if args.check:
            sys.stdout.write(f"{guide}: {'out of date' if stale else 'up to date'}\n")
            return 1 if stale else 0
        sys.stdout.write(f"{guide}: {'updated' if stale else 'already up to date'}\n")
        return 0
    except KubenetLabError as err:
        sys.stderr.write(f"{PROG} {args.command}: error: {err}\n")
        return 2
    except OSError as err:  # a folder that cannot be made or a file that cannot be written
        what = f"{err.filename}: {err.strerror}" if err.filename and err.strerror else err
        sys.stderr.write(f"{PROG} {args.command}: error: cannot write {what}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
