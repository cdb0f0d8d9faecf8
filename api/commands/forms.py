"""`gi forms`: build the ODK sample form (XLSForm -> XForm) and show what the service serves."""

from __future__ import annotations

from pathlib import Path

import typer

from api.console import console, working

app = typer.Typer(
    help="The ODK Collect sample form (XLSForm built into an XForm by pyxform).", no_args_is_help=True
)


@app.command("build")
def build(
    out: Path = typer.Option(
        None, "--out", "-o", help="Directory for gi_sample.xlsx and gi_sample.xml (default: out/forms)."
    ),
) -> None:
    """Build the sample form from its source and write the spreadsheet and the XForm."""
    from gi.field.form import sample_form, write_form_files
    from gi.settings import get_settings

    target = out or get_settings().output_dir / "forms"
    with working("building the form with pyxform"):
        xlsx, xml = write_form_files(target)
        form = sample_form()
    console.print(f"{form.title} ({form.form_id}) version {form.version}, media: {', '.join(form.media)}")
    console.print(f"wrote {xlsx}\nwrote {xml}")
