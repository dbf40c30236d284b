"""`python -m bot` is the same as the `pilot-pulse` command."""

from bot.runtime.cli import main

raise SystemExit(main())
