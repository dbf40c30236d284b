"""`pilot-pulse demo` runs the loop offline and shows what each person sees."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from bot.devkit.demo import run_demo


def test_the_demo_runs_the_whole_pulse_offline(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_demo(out=out, files=tmp_path / "files") == 0
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
    # It ends with the weekly digest, six weeks of history behind it, and writes its files.
    assert text.count("of 8 answered") >= 6
    assert "posted the digest of support-copilot" in text and "with its trend chart" in text
    assert "30-day review" in text and "What to do next" in text
    blocks = json.loads((tmp_path / "files" / "digest-blocks.json").read_text())["blocks"]
    assert blocks[0]["type"] == "header" and len(blocks) <= 50
    assert (tmp_path / "files" / "digest-chart.png").read_bytes().startswith(b"\x89PNG")
    assert str(tmp_path / "files" / "digest-chart.png") in text
