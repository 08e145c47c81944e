"""``python -m kubeds`` runs the command line."""

from kubeds.cli import main

raise SystemExit(main.main())
