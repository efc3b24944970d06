"""The ``stratcare`` command: serve the CDS Hooks API, play the demo, print the OpenAPI document."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="stratcare: CDS Hooks stratified care for musculoskeletal pain.", no_args_is_help=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Run the CDS Hooks service with uvicorn (settings from STRATCARE_* variables)."""
    import uvicorn

    uvicorn.run(
        "stratcare.api.app:serve_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_config=None,
    )


@app.command()
def demo(
    url: Annotated[
        str | None, typer.Option(help="Play against a running stratcare instead of an in-process one.")
    ] = None,
    scenario: Annotated[list[str] | None, typer.Option(help="Only these scenarios (repeatable).")] = None,
    database_url: Annotated[
        str, typer.Option(help="Store for the in-process service.")
    ] = "sqlite+aiosqlite:///./stratcare-demo.db",
) -> None:
    """Play an EHR against stratcare with the bundled sample patients and print the cards."""
    from stratcare.demo.player import play

    code = asyncio.run(play(url=url, only=scenario or [], database_url=database_url))
    raise typer.Exit(code)


@app.command()
def openapi(
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the OpenAPI document of the running app (the source of openapi.yaml)."""
    from stratcare.api.openapi import openapi_yaml

    text = openapi_yaml()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    app()
