"""`python -m cli ...` is the same as the `pinpoint-lake` command."""

from cli.main import main

raise SystemExit(main())
