"""The ``cart-outcomes`` command line: thin wrappers around the Python API.

Heavy modules (pandas, numpy, matplotlib) are imported inside the commands so that ``--help`` stays fast.
Exit codes: 0 success, 1 data problems, 2 usage problems.
"""

from __future__ import annotations

import typer

from cart_outcomes._version import __version__

app = typer.Typer(
    name="cart-outcomes",
    help="Validated, reproducible outcomes analysis for CAR-T cell therapy cohorts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"cart-outcomes {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """Validated, reproducible outcomes analysis for CAR-T cell therapy cohorts."""


def main() -> None:
    app()
