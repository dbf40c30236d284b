"""What champions and leadership see: a period's figures as SQL aggregates with the
minimum-group rule (`metrics`, `adoption`), the report (`report`), `/pilot-status`
(`status`), frictions and wins (`frictions`), past weeks and the trend (`history`), and the
weekly digest: its content (`digest`), composing it (`weekly_digest`), the goals' review
(`review`), what to do next (`advice`, `actions.toml`) and its chart (`chart`).

May import: other domain packages, `views`, `prompts`, `storage`. Never the runtime, handlers or
devkit.
"""
