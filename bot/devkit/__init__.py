"""The developer's kit: a local stand-in of the Slack Web API and Socket Mode, requests signed
as Slack signs them, Block Kit rendered as plain text, weeks of simulated history, the demo and
the analyzer evaluation. It ships because `pilot-pulse demo` needs it.

May import anything. Nothing in the product imports it, except the `demo` command, which loads
`bot.devkit.demo` when asked for (tests/test_architecture.py keeps it so).
"""
