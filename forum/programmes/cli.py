"""`candor programmes …`: the pairing engine from the command line (worker side, never the web)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

programmes_app = typer.Typer(help="Mentoring programmes: pairing by compatibility.",
                             no_args_is_help=True)  # fmt: skip


@programmes_app.command("propose")
def propose_command(
    file: Annotated[Path, typer.Argument(help="JSON: people, criteria and edits.")],
) -> None:
    """Print the best pairing of FILE's juniors and seniors as JSON."""
    from forum.programmes.pairing import problem_from_dict, proposal_to_dict, propose

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        juniors, seniors, criteria, edits = problem_from_dict(data)
        proposal = propose(juniors, seniors, criteria, edits)
    except (OSError, ValueError) as error:  # json.JSONDecodeError is a ValueError
        typer.echo(f"cannot propose pairs: {error}", err=True)
        raise typer.Exit(2) from error
    json.dump(proposal_to_dict(proposal), sys.stdout, indent=1)
    sys.stdout.write("\n")
