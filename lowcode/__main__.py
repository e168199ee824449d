"""``python -m lowcode`` runs the CLI."""

from lowcode.cli import main

main()
