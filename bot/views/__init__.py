"""Block Kit, built by pure functions: data in, blocks out, testable without Slack. Common blocks
(`blocks`), the pulse DM and modal (`pulse`), pause/stop/resume (`preferences`), check-ins
(`checkin`), the welcome DM (`welcome`), the Home tab for each role (`home`), the New/Edit pilot
modal (`setup`), `/pilot-status` (`status`) and the digest (`digest`).

May import: other views and pure helpers (periods, theme labels). No storage, not even through
another module (types only under `TYPE_CHECKING`); never the runtime, handlers or devkit.
"""
