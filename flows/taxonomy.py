"""Stable category codes (stored and exported) and their Spanish msgids.

Codes are English snake_case and never change once data exists: exports and
rollups key on them. Labels come from the catalogs, so they may be reworded.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from flows.messages import N_

Taxonomy = Mapping[str, str]


def _taxonomy(*pairs: tuple[str, str]) -> Taxonomy:
    return MappingProxyType(dict(pairs))


KINDS: Taxonomy = _taxonomy(
    ("threat", N_("Amenaza o situación de riesgo")),
    ("stigma", N_("Estigmatización contra un líder o lideresa")),
    ("priority", N_("Prioridades de seguridad de la comunidad")),
)

URGENCIES: Taxonomy = _taxonomy(
    ("immediate", N_("Peligro inmediato")),
    ("high", N_("Alta")),
    ("normal", N_("Normal")),
)

TARGETS: Taxonomy = _taxonomy(
    ("target.self", N_("Yo")),
    ("target.leader", N_("Un líder, lideresa, defensor o defensora")),
    ("target.family", N_("Mi familia")),
    ("target.group", N_("Un grupo o comunidad")),
    ("target.other", N_("Otra persona")),
)

THREATS: Taxonomy = _taxonomy(
    ("threat.death_threat", N_("Amenaza de muerte")),
    ("threat.attack", N_("Ataque o atentado")),
    ("threat.displacement_order", N_("Orden de irse del territorio")),
    ("threat.recruitment", N_("Reclutamiento o intento de reclutamiento")),
    ("threat.extortion", N_("Extorsión o cobro de \"vacuna\"")),
    ("threat.surveillance", N_("Seguimiento o vigilancia")),
    ("threat.digital", N_("Amenaza por redes o por teléfono")),
    ("threat.sexual_violence", N_("Violencia sexual o amenaza de violencia sexual")),
    ("threat.confinement", N_("Confinamiento o restricción de movilidad")),
    ("threat.other", N_("Otra situación de riesgo")),
)

CHANNELS: Taxonomy = _taxonomy(
    ("channel.in_person", N_("En persona")),
    ("channel.pamphlet", N_("Panfleto o escrito")),
    ("channel.phone", N_("Llamada, SMS o WhatsApp")),
    ("channel.social_media", N_("Redes sociales")),
    ("channel.intermediary", N_("A través de otra persona")),
    ("channel.surveillance", N_("Me siguieron o me vigilaron")),
)

ACTORS: Taxonomy = _taxonomy(
    ("actor.armed_group", N_("Un grupo armado")),
    ("actor.public_official", N_("Un funcionario público")),
    ("actor.security_forces", N_("Fuerza pública")),
    ("actor.other", N_("Otro")),
    ("actor.unknown", N_("No sé / prefiero no decir")),
)

WHEN: Taxonomy = _taxonomy(
    ("when.today", N_("Hoy")),
    ("when.this_week", N_("Esta semana")),
    ("when.this_month", N_("Este mes")),
    ("when.earlier", N_("Antes")),
)

YES_NO: Taxonomy = _taxonomy(
    ("yes", N_("Sí")),
    ("no", N_("No")),
)

ALL: Mapping[str, Taxonomy] = MappingProxyType(
    {
        "kind": KINDS,
        "urgency": URGENCIES,
        "target": TARGETS,
        "threat": THREATS,
        "channel": CHANNELS,
        "actor": ACTORS,
        "when": WHEN,
        "yes_no": YES_NO,
    }
)


def label(code: str) -> str:
    """Returns the msgid of any code of any taxonomy (the code itself if unknown)."""
    for taxonomy in ALL.values():
        if code in taxonomy:
            return taxonomy[code]
    return code
