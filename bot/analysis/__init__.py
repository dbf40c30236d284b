"""What people's words become: the analyzer interface (`analyzer`), the local analyzer and its
data (`local`, `local_lexicon.toml`), the model analyzer on a shared `ModelClient` (`model`),
the theme taxonomy (`themes`), and the queue that analyses stored words after Slack has been
answered and retries what failed (`queue`).

May import: other domain packages, `prompts`, `storage`. Never the runtime, handlers or devkit.
Texts reach an analyzer scrubbed, never raw.
"""
