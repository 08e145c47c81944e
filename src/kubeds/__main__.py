"""``python -m kubeds`` runs the command line."""

from kubeds.cli.main import main

raise SystemExit(main())
