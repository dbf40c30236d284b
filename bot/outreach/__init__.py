"""Reaching people: rounds (one pulse or check-in per pilot and week), the durable sender and
its pacer (`delivery`, `pacer`), the DMs it posts (`compose`), sending a round (`sending`), the
reminder, the champion's nudge, and posting the weekly digest (`digest`).

May import: other domain packages, `views`, `storage`. Never the runtime, handlers or devkit.
"""
