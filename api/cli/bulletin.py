"""`somos bulletin MUNICIPALITY --period 2026-Q3`: the municipal bulletin as HTML and PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from api.bulletin import Bulletin, BulletinError, file_name, prepare, render_html, render_pdf
from api.cli import app, fail, in_transaction, load_settings, progress
from storage.store import Store


@app.command()
def bulletin(
    municipality: Annotated[str, typer.Argument(help="Código DIVIPOLA del municipio (52835).")],
    period: Annotated[str | None, typer.Option(
        help="Trimestre AAAA-Qn (2026-Q3) o mes AAAA-MM ya terminado. Si falta, el último "
             "trimestre terminado.")] = None,
    lang: Annotated[str, typer.Option(help="es o en.")] = "es",
    out: Annotated[Path, typer.Option(help="Carpeta donde guardar el HTML y el PDF.")] = Path(),
) -> None:
    """Boletín municipal para un consejo de seguridad, en HTML y PDF, con cifras protegidas."""
    if lang not in ("es", "en"):
        raise fail("Use --lang es o --lang en.")
    settings = load_settings()

    async def work(session: AsyncSession, _store: Store) -> Bulletin:
        return await prepare(session, code=municipality, period=period,
                             k=settings.suppression_k, locale=lang)

    with progress("Preparando el boletín…", 3) as advance:
        try:
            made = in_transaction(settings, work)
        except BulletinError as error:
            raise fail(str(error)) from None
        advance()
        html = render_html(made, lang)
        out.mkdir(parents=True, exist_ok=True)
        html_path = out / file_name(made, lang, "html")
        html_path.write_text(html, encoding="utf-8")
        advance()
        pdf_path = out / file_name(made, lang, "pdf")
        pdf_path.write_bytes(render_pdf(html))
        advance()
    typer.echo(f"Boletín de {made.name} ({made.period.code}) guardado en {html_path} "
               f"y {pdf_path}.")
