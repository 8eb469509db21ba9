"""`python -m vigil` runs the CLI."""

from vigil.cli.main import app

# Guarded: the import pool's forkserver children import the main module again.
if __name__ == "__main__":
    app()
