"""`somos keys`: rotate the server key and seal everything again, then retire old keys."""

from __future__ import annotations

from pathlib import Path

import typer

from api.cli import app, fail, load_settings, progress, with_store
from api.settings import Settings
from storage.keyfile import KeyFileError, Keyring, load_keyring
from storage.rotation import census, count_sealed, reseal_all
from storage.store import Store

keys_app = typer.Typer(help="La clave del servidor (borradores, contactos, verificación en dos "
                       "pasos) y su rotación.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _key_file_for_rotation(settings: Settings) -> Path:
    if settings.keys is not None:
        raise fail("Las claves vienen de la variable SOMOS_KEYS: la rotación escribe el archivo "
                   "de claves. Use un archivo (SOMOS_KEY_FILE) para rotarlas.")
    path = settings.resolved_key_file
    if not path.exists():
        raise fail(f"No existe el archivo de claves {path}: ¿ya corrió somos init?")
    return path


def _load_keyring(path: Path) -> Keyring:
    try:
        return load_keyring(path)
    except KeyFileError as error:
        raise fail(str(error)) from None


def _reseal(settings: Settings, label: str) -> tuple[int, set[str]]:
    """Seals every server-sealed blob under the key file's current key; returns how many
    moved and which key ids are still named by some blob afterwards."""

    async def work(store: Store) -> tuple[int, set[str]]:
        async with store.transaction() as session:
            total = await count_sealed(session=session)
        with progress(label, total) as advance:
            async with store.transaction() as session:
                moved = await reseal_all(session=session, keyring=store.keyring,
                                         progress=advance)
        async with store.transaction() as session:
            in_use = (await census(session=session)).key_ids()
        return moved, in_use

    return with_store(settings, work)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Crea una clave del servidor nueva y vuelve a sellar todo con ella. Detenga somos serve antes.

    Las claves viejas quedan en el archivo hasta `somos keys retire`, para abrir lo que un
    servidor aún sin reiniciar haya sellado con ellas.
    """
    settings = load_settings()
    path = _key_file_for_rotation(settings)
    rotated = _load_keyring(path).rotate_server_key()
    rotated.save(path)  # the new key is on disk before anything is sealed with it
    moved, _in_use = _reseal(settings, "Sellando de nuevo con la clave nueva…")
    typer.echo(f"Clave nueva del servidor: {rotated.current_server_key_id}. "
               f"{moved} elementos sellados de nuevo.")
    typer.echo("Inicie somos serve (usará la clave nueva) y después ejecute somos keys retire "
               "para quitar las claves viejas del archivo.")


@keys_app.command("retire")
def keys_retire() -> None:
    """Quita del archivo las claves viejas que ya nada usa (después de rotar y reiniciar)."""
    settings = load_settings()
    path = _key_file_for_rotation(settings)
    moved, in_use = _reseal(settings, "Revisando lo sellado…")
    keyring = _load_keyring(path)
    old = set(keyring.server_keys) - {keyring.current_server_key_id}
    still_used = old & in_use
    retired = sorted(old - still_used)
    keyring.retire_server_keys(keep=still_used).save(path)
    if moved:
        typer.echo(f"{moved} elementos sellados todavía con claves viejas pasaron a la actual.")
    typer.echo(f"Claves retiradas: {', '.join(retired)}." if retired
               else "No había claves viejas que retirar.")
    if still_used:
        raise fail(f"Siguen en uso: {', '.join(sorted(still_used))}. ¿Hay un somos serve sin "
                   "reiniciar? Reinícielo y repita somos keys retire.")
