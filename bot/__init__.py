"""pilot-pulse: weekly pulse surveys and check-ins that show whether a team is
adopting a newly deployed AI tool, without ever putting a name next to an answer.

`bot` holds the domain (pilots, rounds, delivery, answers, check-ins, analysis, metrics,
views) and the runtime that wires it to Slack (settings, client, app, CLI, server, scheduler).
"""

__version__ = "0.3.0"
