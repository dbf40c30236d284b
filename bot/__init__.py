"""pilot-pulse: weekly pulse surveys and check-ins that show whether a team is
adopting a newly deployed AI tool, without ever putting a name next to an answer.

`bot` holds the domain, one subpackage per capability (pilots, outreach, pulse, checkins,
analysis, privacy, reporting), the pure Block Kit views, the runtime that wires it to Slack
(settings, clients, app, servers, clock, CLI) and the devkit (stand-in, demo). Each
subpackage's docstring says what it holds and what it may import.
"""

__version__ = "0.4.0"
