"""The course command line: ``python -m course <command>``.

Commands:

- ``build``: execute the lessons (papermill, cached), build the site (Jupyter
  Book) and print one PDF handout per lesson (headless Chromium);
- ``lessons``: list the lessons and their parameters with defaults;
- ``clean``: remove the build folder.

New commands register a function in :data:`COMMANDS` and a subparser in
:func:`make_parser`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from .errors import CourseError
from .project import REPO_ROOT, Project


def _add_location_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        type=Path,
        default=REPO_ROOT,
        help="the book to build: a folder with _config.yml and _toc.yml (default: this repository)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write the build into OUT/_build instead of ROOT/_build",
    )


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m course",
        description="Build and check the course site: lessons, web pages and PDF handouts.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    build = sub.add_parser(
        "build",
        help="execute the lessons, build the site and the PDF handouts",
        description=(
            "Execute every lesson listed in _toc.yml with papermill (lessons whose source, "
            "parameters, glmm_lib/ and data/ are unchanged are not executed again), build the "
            "site with Jupyter Book into _build/html, and print one A4 PDF handout per lesson "
            "into _build/html/handouts."
        ),
    )
    build.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="LESSON.NAME=VALUE",
        help="override a value of a lesson's parameters cell, e.g. distributions.nu=5 "
        "(a Python literal; repeatable)",
    )
    build.add_argument("--force", action="store_true", help="execute and print everything again")
    build.add_argument("--no-handouts", action="store_true", help="skip the PDF handouts")
    build.add_argument("--strict", action="store_true", help="turn Sphinx warnings into errors")
    build.add_argument("--quiet", "-q", action="store_true", help="less output")
    _add_location_options(build)

    lessons = sub.add_parser("lessons", help="list the lessons and their parameters")
    _add_location_options(lessons)

    clean = sub.add_parser("clean", help="remove the build folder (_build)")
    _add_location_options(clean)

    from .power_cli import add_parser as add_power_parser
    from .report import add_parser as add_report_parser

    add_report_parser(sub)
    add_power_parser(sub)
    return parser


def cmd_build(args: argparse.Namespace) -> int:
    from .execute import execute_lessons
    from .params import notebook_parameters, parse_overrides, read_notebook

    started = time.perf_counter()
    project = Project(args.root, args.out)
    if not project.owns_build_dir():    # before any work: the build deletes stale files in it
        project.claim_build_dir()
    lessons = project.lessons
    overrides = {}
    if args.param:  # reading the parameters cells needs jupytext: only when asked to override
        parameters = {lesson.name: notebook_parameters(read_notebook(lesson.source)) for lesson in lessons}
        overrides = parse_overrides(args.param, parameters)
    if not args.no_handouts:
        from .handouts import find_chromium

        find_chromium()  # fail before executing anything, not after

    progress = not args.quiet
    results = execute_lessons(project, lessons, overrides, force=args.force, progress=progress)

    from .site import build_html

    print("Building the site with Jupyter Book ...", flush=True)
    index = build_html(project, strict=args.strict, quiet=args.quiet)
    if not args.no_handouts:   # the example report prints a PDF too
        from .example_report import build_example_report

        build_example_report(project, force=args.force, progress=progress)

    if not args.no_handouts:
        from .handouts import build_handouts

        build_handouts(project, force=args.force, progress=progress)

    executed = [r.lesson.name for r in results if not r.cached]
    cached = [r.lesson.name for r in results if r.cached]
    seconds = time.perf_counter() - started
    html = project.html_dir
    print(
        f"\nDone in {seconds:.1f} s: {len(executed)} lesson(s) executed"
        f"{' (' + ', '.join(executed) + ')' if executed else ''}, {len(cached)} unchanged."
    )
    print(f"Site:     {index}")
    if not args.no_handouts:
        print(f"Handouts: {project.handouts_dir}/")
    print(f"Serve it: python -m http.server -d {_shown(html)}  (then open http://localhost:8000/)")
    return 0


def cmd_lessons(args: argparse.Namespace) -> int:
    from .params import NOT_LITERAL, notebook_parameters, read_notebook

    project = Project(args.root, args.out)
    for lesson in project.lessons:
        params = notebook_parameters(read_notebook(lesson.source))
        print(f"{lesson.name}  ({lesson.source.relative_to(project.root)})")
        for name, default in params.items():
            shown = "(an expression)" if default is NOT_LITERAL else repr(default)
            print(f"    {lesson.name}.{name} = {shown}")
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    project = Project(args.root, args.out)
    if project.build_dir.exists():
        if not project.owns_build_dir():
            raise CourseError(f"{project.build_dir} was not made by this command; not removed")
        shutil.rmtree(project.build_dir)
        print(f"removed {project.build_dir}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import cmd_report as run

    return run(args)


def cmd_power(args: argparse.Namespace) -> int:
    from .power_cli import cmd_power as run

    return run(args)


COMMANDS = {"build": cmd_build, "lessons": cmd_lessons, "clean": cmd_clean, "report": cmd_report,
            "power": cmd_power}


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except CourseError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
