"""`python -m sarah_cli …` runs the `sarah` command without the installed script."""

from sarah_cli import main

raise SystemExit(main())
