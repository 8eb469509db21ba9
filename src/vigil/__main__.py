"""`python -m vigil` runs the CLI."""

from vigil.cli.main import app

app()
