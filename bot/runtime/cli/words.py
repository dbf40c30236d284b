"""`analyze`, `questions export|import` and `retention run`: people's words and the questions that ask for them."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.runtime.cli.common import Failure, add_command, add_group, load_settings, open_database


def cmd_analyze(args: argparse.Namespace) -> int:
    from bot.privacy.scrub import Scrubber
    from bot.runtime.deps import build_analyzer

    settings = load_settings()
    names: list[str] = []
    if args.pilot:
        from bot.pilots.pilot import get_pilot
        from bot.privacy.names import pilot_names

        db = open_database(settings)
        try:
            with db.session() as session:
                names = pilot_names(session, get_pilot(session, args.pilot).id)
        finally:
            db.dispose()
    scrubber = Scrubber(names)
    analyzer = build_analyzer(settings)
    if args.file in (None, "-"):
        lines = sys.stdin
    else:
        try:
            lines = open(args.file, encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise Failure(f"cannot read {args.file}: {exc.strerror}") from None
    try:
        for line in lines:
            text = line.strip()
            if not text:
                continue
            scrubbed = scrubber.scrub(text)
            result = analyzer.analyze(scrubbed)
            if args.format == "json":
                print(
                    json.dumps(
                        {
                            "text": scrubbed,
                            "sentiment": result.sentiment,
                            "label": result.label,
                            "themes": result.themes,
                            "analyzer": result.analyzer,
                        },
                        ensure_ascii=False,
                    ),
                    flush=True,
                )
            else:
                themes = ", ".join(result.themes)
                note = f" ({result.note})" if result.note else ""
                print(
                    f"{scrubbed}\n  {result.sentiment:+.2f} {result.label} · {themes} · {result.analyzer}{note}",
                    flush=True,
                )
    except UnicodeDecodeError:
        raise Failure("the input is not UTF-8 text") from None
    finally:
        if lines is not sys.stdin:
            lines.close()
    return 0


def cmd_retention_run(_args: argparse.Namespace) -> int:
    from bot.privacy.retention import purge_raw_text
    from storage.types import utcnow

    settings = load_settings()
    db = open_database(settings)
    try:
        purged = purge_raw_text(db, utcnow(), settings.retention_days)
    finally:
        db.dispose()
    print(
        f"deleted the raw text of {purged.answers} comments and {purged.checkin_messages} check-in "
        f"replies older than {settings.retention_days} days; the scrubbed text stays for reporting"
    )
    return 0


def cmd_questions_export(args: argparse.Namespace) -> int:
    from bot.pilots.pilot import get_pilot
    from bot.pilots.question import current_specs, export_toml

    db = open_database(load_settings())
    try:
        with db.session() as session:
            pilot = get_pilot(session, args.name)
            specs, version = current_specs(session, pilot.id)
    finally:
        db.dispose()
    sys.stdout.write(export_toml(specs, pilot=pilot.name, version=version))
    return 0


def cmd_questions_import(args: argparse.Namespace) -> int:
    from bot.pilots.pilot import get_pilot
    from bot.pilots.question import import_questions, parse_toml

    try:
        if args.file == "-":
            text = sys.stdin.read()
        else:
            with open(args.file, encoding="utf-8") as handle:
                text = handle.read()
    except OSError as exc:
        raise Failure(f"cannot read {args.file}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise Failure(f"{args.file} is not UTF-8 text") from None
    specs = parse_toml(text)
    db = open_database(load_settings())
    try:
        with db.transaction() as session:
            pilot = get_pilot(session, args.name)
            version, changed = import_questions(session, pilot, specs)
    finally:
        db.dispose()
    if changed:
        print(
            f"questions of {args.name!r} are now version {version} ({len(specs)} questions); used from the next round on"
        )
    else:
        print(f"the questions of {args.name!r} are unchanged (still version {version})")
    return 0


def add_commands(commands: Any) -> None:
    """Declare `analyze` and `retention run` on the top-level parser's sub-commands."""
    analyze = add_command(
        commands, "analyze", cmd_analyze, "Scrub and analyse texts, one per line, as the app would."
    )
    analyze.add_argument(
        "file", nargs="?", help="a file with one text per line (default: standard input)"
    )
    analyze.add_argument("--pilot", metavar="NAME", help="also scrub this pilot's members' names")
    analyze.add_argument(
        "--format", choices=("text", "json"), default="text", help="json: one object per line"
    )

    retention_commands = add_group(
        commands, "retention", "Delete raw text past its retention period."
    )
    add_command(
        retention_commands,
        "run",
        cmd_retention_run,
        "Delete raw text older than RETENTION_DAYS (scrubbed text stays).",
    )


def add_question_commands(commands: Any) -> None:
    """Declare `questions export|import` on the top-level parser's sub-commands."""
    question_commands = add_group(commands, "questions", "Export and import a pilot's questions.")
    export = add_command(
        question_commands,
        "export",
        cmd_questions_export,
        "Print the pilot's current questions as TOML.",
    )
    export.add_argument("name", help="the pilot")
    load = add_command(
        question_commands,
        "import",
        cmd_questions_import,
        "Make the questions in FILE the pilot's next version.",
    )
    load.add_argument("name", help="the pilot")
    load.add_argument("file", help="a TOML file as written by `questions export` (- for stdin)")
