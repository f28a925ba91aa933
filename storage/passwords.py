"""How strong a new password must be: one rule wherever a password is set (a new account,
one's own change, a restore with the recovery key).

zxcvbn estimates how many guesses a password would take; score 3 means about 10^8, out
of reach at the sign-in limits of `storage.throttle` and the cost of Argon2. Its word
lists are English, so the Spanish and Colombian words people reach for first are added
as the account's own words, with the username. Its advice is English too: each refusal
here is one of our own Spanish msgids, chosen by what zxcvbn found.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from storage.text import N_

MIN_LENGTH = 12
MIN_SCORE = 3
# zxcvbn refuses longer input (its matching grows fast with length): the rest of a long
# passphrase is not judged, only its start.
JUDGED_LENGTH = 72
# Words an attacker of this system tries first: its name, what it is about, where it is.
OWN_WORDS = (
    "somos", "reporte", "reportes", "alerta", "amenaza", "proteccion", "protección",
    "personeria", "personería", "defensoria", "defensoría", "comunidad", "admin",
    "administrador", "usuario", "contraseña", "contrasena", "clave", "secreto", "colombia",
    "bogota", "bogotá", "medellin", "medellín", "cali", "barranquilla", "cartagena",
)

MSG_TOO_SHORT = N_("La contraseña debe tener al menos 12 caracteres.")
MSG_OWN_WORDS = N_("Esa contraseña es fácil de adivinar: contiene el nombre de usuario, "
                   "«Somos» o palabras como «Colombia» o «contraseña». Use una frase de "
                   "cuatro o más palabras que no suelan ir juntas.")
MSG_REPEATS = N_("Esa contraseña es fácil de adivinar: repite letras, números o palabras. "
                 "Use una frase de cuatro o más palabras que no suelan ir juntas.")
MSG_SEQUENCES = N_("Esa contraseña es fácil de adivinar: contiene secuencias como «1234», "
                   "«abcd» o «qwerty». Use una frase de cuatro o más palabras que no suelan "
                   "ir juntas.")
MSG_DATES = N_("Esa contraseña es fácil de adivinar: contiene una fecha o un año. Use una "
               "frase de cuatro o más palabras que no suelan ir juntas.")
MSG_COMMON = N_("Esa contraseña es fácil de adivinar: se parece a contraseñas o palabras muy "
                "usadas. Use una frase de cuatro o más palabras que no suelan ir juntas.")
MSG_GUESSABLE = N_("Esa contraseña es fácil de adivinar. Use una frase de cuatro o más "
                   "palabras que no suelan ir juntas.")


def _reason(matches: Iterable[Mapping[str, Any]]) -> str:
    """The refusal that names the weakest part zxcvbn found, most telling first."""
    found = list(matches)
    patterns = {match.get("pattern") for match in found}
    if any(match.get("dictionary_name") == "user_inputs" for match in found):
        return MSG_OWN_WORDS
    if "repeat" in patterns:
        return MSG_REPEATS
    if patterns & {"sequence", "spatial"}:
        return MSG_SEQUENCES
    if patterns & {"date", "regex"}:  # zxcvbn's only regex is a recent year
        return MSG_DATES
    if "dictionary" in patterns:
        return MSG_COMMON
    return MSG_GUESSABLE


def password_refusal(password: str, *, username: str) -> str | None:
    """Why `password` cannot be used by `username` (a msgid), or None. A few milliseconds
    of CPU: async callers run it in a thread."""
    if len(password) < MIN_LENGTH:
        return MSG_TOO_SHORT
    # Here, not above: its word lists take 13 MiB, needed only when a password is set.
    from zxcvbn import zxcvbn  # type: ignore[import-untyped]

    result = zxcvbn(password[:JUDGED_LENGTH], user_inputs=[username, *OWN_WORDS])
    if result["score"] >= MIN_SCORE:
        return None
    return _reason(result["sequence"])
