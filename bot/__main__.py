"""`python -m bot` is the same as the `pilot-pulse` command."""

from bot.cli import main

raise SystemExit(main())
