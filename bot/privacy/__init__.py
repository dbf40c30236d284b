"""Keeping people's words safe: scrubbing names, mentions and contact details (`scrub`, with
its everyday-word names in `everyday_names.txt`), the workspace's names it learns (`names`),
retention of raw text (`retention`), and a person's own data: seeing and erasing it
(`own_data`).

May import: other domain packages, `storage`. Never the runtime, handlers or devkit.
"""
