"""The clock's jobs: what each tick checks for every pilot. Imported by `bot.scheduler.tick`."""
