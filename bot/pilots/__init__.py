"""Pilots and their people: creating and finding a pilot (`pilot`), participants and their own
choices (`participant`), champions and who may see what (`champion`), success goals (`goal`),
the versioned questions (`question`) and periods, ISO weeks in a pilot's time zone (`period`).

May import: `bot.privacy`, `storage`. Never the runtime, handlers, views or devkit.
"""
