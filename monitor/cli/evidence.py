"""`monitor evidence export`: an alert's evidence as WARC 1.1 (and a zip bundle)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from monitor.cli import call, out
from monitor.textsafe import safe

evidence_app = typer.Typer(
    help="Evidence kept for alerts: the pages as fetched, byte for byte.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")


@evidence_app.command("export")
def export(
    ctx: typer.Context,
    alert_id: Annotated[str, typer.Argument(help="Alert id (alt_…), or a unique prefix of it.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The WARC file to write (FILE.warc.gz).")
    ],
    bundle: Annotated[
        Path | None,
        typer.Option(
            "--bundle", help="Also write a zip: the WARC, each page's HTML and text, a manifest."
        ),
    ] = None,
) -> None:
    """Write an alert's evidence as a WARC 1.1 file: request and response records for every
    page of its story as fetched, the extracted text, the alert payload and watchlist version."""
    report = call(ctx, lambda m: m.evidence.export(alert_id, output, bundle=bundle))
    out.print(
        safe(
            f"{report.warc}: {report.records} WARC records, {report.pages} pages of alert "
            f"{report.alert_id}"
        ),
        highlight=False,
    )
    if report.bundle is not None:
        out.print(
            safe(f"{report.bundle}: {report.bundle_files} files and manifest.json"),
            highlight=False,
        )
