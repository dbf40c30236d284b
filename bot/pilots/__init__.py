"""Pilots and their people: creating and finding a pilot (`pilot`), participants and their own
choices (`participant`), champions and who may do what (`champion`), success goals (`goal`),
the versioned questions (`question`), the weekly schedule (`schedule`), periods, ISO weeks in
a pilot's time zone (`period`), the set-up form's checks (`setup`), and changing a pilot and
its people over time, following its channel or group (`update`, `membership`).

May import: `bot.privacy`, views (the set-up form's data), `storage`. Never the runtime,
handlers or devkit.
"""
