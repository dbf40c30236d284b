"""`pilot-pulse demo` runs the loop offline and shows what each person sees."""

from __future__ import annotations

import io
import json
import re

from bot.devkit.demo import run_demo


def test_the_demo_runs_the_whole_pulse_offline() -> None:
    out = io.StringIO()
    assert run_demo(out=out) == 0
    text = out.getvalue()
    assert "created pilot 'support-copilot': 8 members" in text
    assert "left out U0PULSEBOT: this app itself" in text
    assert "[ Not at all ]  [ Once or twice ]  [ Several times ]  [ Daily ]" in text
    assert "Thanks, your answers on GitHub Copilot are in." in text
    assert "Paused until" in text
    assert "reminder: 1 sent" in text
    assert "Answered: 6 (75%)" in text
    assert "is for a pilot's champions" in text
    report = json.loads(re.search(r"^  \{$.*?^  \}$", text, re.S | re.M).group(0))
    assert report["invited"] == 8 and report["responded"] == 6
    # The e-mail address in a comment never reaches a report.
    assert "ada@example.com" not in text
