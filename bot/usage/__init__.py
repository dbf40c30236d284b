"""The AI tool's own usage data, imported beside what people say: the export formats and their
strict parsers (`formats`), importing an export into the members' days and reading a week's
actual usage (`activity`), and an export uploaded in a DM to the bot (`upload`).

May import: other domain packages, `storage`. Never the runtime, handlers, views or devkit.
Only members' days are stored; no raw export is kept.
"""
