"""The conversational check-in: a person's reply, stored first and once (`reply`), the bot's
turn that follows, written down before it is posted (`turn`), and the Events API ids already
handled (`event`). Sending the opening question is `bot.outreach`.

May import: other domain packages, `views`, `storage`. Never the runtime, handlers or devkit.
"""
