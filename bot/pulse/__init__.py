"""Answers to the weekly pulse: the one-click first answer and the modal's, checked and
upserted per delivery and question, so that a double click or a replay never counts twice
(`answer`). Sending the pulse is `bot.outreach`.

May import: other domain packages, `views`, `storage`. Never the runtime, handlers or devkit.
"""
