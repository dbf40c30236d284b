"""Write a benchmark pilot straight into a database: `python bench/setup_pilot.py URL PEOPLE NAME`.

Its people are the stand-in's generated users U00000001…, with the default questions.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import civil_zone
from bot.pilots.question import install_default_questions
from storage import Database
from storage.models import Participant, Pilot


def main(database_url: str, people: int, name: str) -> None:
    db = Database(database_url)
    db.upgrade()
    with db.transaction() as session:
        # Every day a working day, in a zone where it is working hours now (bench/common.py).
        pilot = Pilot(
            name=name,
            tool="Copilot",
            leadership_channel="C0GENERAL",
            timezone=civil_zone(),
            working_days=0b1111111,
        )
        session.add(pilot)
        session.flush()
        session.add_all(
            Participant(pilot_id=pilot.id, slack_user_id=f"U{index:08d}", real_name=f"User {index}")
            for index in range(1, people + 1)
        )
        install_default_questions(session, pilot)
    db.dispose()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
