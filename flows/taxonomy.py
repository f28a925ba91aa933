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
    ("threat.confinement", N_("Confinamiento: no dejan salir ni moverse")),
    ("threat.other", N_("Otra situación de riesgo")),
)

# Every category a threat report may have: the ones offered as buttons, the one of a quick
# report (flows/quick.py), where nobody chose one, and a leader's request for protection made
# without an earlier report (flows/protection.py), never offered in the threat's question.
UNSPECIFIED_THREAT = "threat.unspecified"
PROTECTION_REQUEST = "threat.protection_request"
THREAT_CATEGORIES: Taxonomy = _taxonomy(
    *THREATS.items(), (UNSPECIFIED_THREAT, N_("Sin clasificar (reporte rápido)")),
    (PROTECTION_REQUEST, N_("Solicitud de protección de un líder o lideresa")),
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
    ("actor.security_forces", N_("Policía, Ejército o Armada")),
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
# The same answers with "No" first: the default of a consent question comes first.
NO_YES: Taxonomy = _taxonomy(("no", YES_NO["no"]), ("yes", YES_NO["yes"]))

LEADERSHIP: Taxonomy = _taxonomy(
    ("leadership.community", N_("Comunal o de Junta de Acción Comunal (JAC)")),
    ("leadership.indigenous", N_("Autoridad o líder indígena")),
    ("leadership.afro_council", N_("Consejo comunitario afrocolombiano")),
    ("leadership.campesino", N_("Campesino o campesina")),
    ("leadership.women", N_("De mujeres")),
    ("leadership.lgbtiq", N_("LGBTIQ+")),
    ("leadership.environmental", N_("Ambiental o de tierras")),
    ("leadership.victims", N_("De víctimas")),
    ("leadership.youth", N_("De jóvenes")),
    ("leadership.human_rights", N_("Defensor o defensora de derechos humanos")),
    ("leadership.religious", N_("Religioso o religiosa")),
    ("leadership.union", N_("Sindical")),
    ("leadership.other", N_("Otro")),
)

# Who stigmatized: the category of a stigmatization report.
STIGMA: Taxonomy = _taxonomy(
    ("stigma.by_public_official", N_("Un funcionario público")),
    ("stigma.by_security_forces", N_("Policía, Ejército o Armada")),
    ("stigma.by_armed_group", N_("Un grupo armado")),
    ("stigma.by_media", N_("Un medio de comunicación")),
    ("stigma.by_social_media", N_("Cuentas en redes sociales")),
    ("stigma.by_community", N_("Personas de la comunidad")),
    ("stigma.by_unknown", N_("No sé / prefiero no decir")),
)

STIGMA_CHANNELS: Taxonomy = _taxonomy(
    ("stigma_channel.public_statement", N_("En público: un discurso o una declaración")),
    ("stigma_channel.social_media", N_("Redes sociales")),
    ("stigma_channel.pamphlet", N_("Panfleto o escrito")),
    ("stigma_channel.media", N_("Radio, periódico o televisión")),
    ("stigma_channel.rumor", N_("Rumores, de boca en boca")),
    ("stigma_channel.other", N_("Otra forma")),
)

STIGMA_EFFECTS: Taxonomy = _taxonomy(
    ("stigma_effect.threats", N_("Llegaron amenazas")),
    ("stigma_effect.isolation", N_("Rechazo o aislamiento en la comunidad")),
    ("stigma_effect.displacement", N_("Tuvo que irse del territorio")),
    ("stigma_effect.attack", N_("Un ataque o atentado")),
    ("stigma_effect.loss_of_work", N_("Perdió trabajo o ingresos")),
    ("stigma_effect.family", N_("Afectó a su familia")),
    ("stigma_effect.none", N_("No ha pasado nada")),
)

PRIORITIES: Taxonomy = _taxonomy(
    ("priority.extortion", N_("Extorsión o cobro de \"vacuna\"")),
    ("priority.drug_dealing", N_("Venta de drogas (microtráfico)")),
    ("priority.theft", N_("Robos")),
    ("priority.homicide", N_("Homicidios")),
    ("priority.domestic_violence", N_("Violencia dentro de la familia")),
    ("priority.sexual_violence", N_("Violencia sexual o contra las mujeres")),
    ("priority.child_recruitment", N_("Reclutamiento o uso de niños, niñas y jóvenes")),
    ("priority.armed_groups", N_("Grupos armados que imponen sus reglas")),
    ("priority.landmines", N_("Minas o explosivos")),
    ("priority.displacement", N_("Desplazamiento forzado")),
    ("priority.confinement", N_("Confinamiento: no poder salir")),
    ("priority.kidnapping", N_("Secuestro")),
    ("priority.threats_to_leaders", N_("Amenazas a líderes y lideresas")),
    ("priority.coexistence", N_("Peleas y problemas de convivencia")),
    ("priority.other", N_("Otro problema")),
)

PROTECTION_NEEDS: Taxonomy = _taxonomy(
    ("need.risk_assessment", N_("Que la UNP estudie mi riesgo")),
    ("need.collective_protection", N_("Protección para la comunidad u organización")),
    ("need.self_protection_support", N_("Acompañamiento para cuidarse")),
    ("need.leave_the_area", N_("Apoyo para salir del lugar por un tiempo")),
    ("need.legal_guidance", N_("Orientación para denunciar")),
    ("need.psychosocial", N_("Apoyo emocional o psicosocial")),
    ("need.other", N_("Otra necesidad")),
)

CONTACT_WAYS: Taxonomy = _taxonomy(
    ("contact.this_chat_only", N_("Solo por este chat, sin revelar quién soy")),
    ("contact.this_chat_identified", N_("Por este chat; puedo decir quién soy si hace falta")),
    ("contact.through_personeria", N_("Prefiero ir a la Personería de mi municipio")),
    ("contact.through_organization", N_("A través de mi organización o proceso")),
)

ALL: Mapping[str, Taxonomy] = MappingProxyType(
    {
        "kind": KINDS,
        "urgency": URGENCIES,
        "target": TARGETS,
        "threat": THREAT_CATEGORIES,
        "channel": CHANNELS,
        "actor": ACTORS,
        "when": WHEN,
        "yes_no": YES_NO,
        "protection_need": PROTECTION_NEEDS,
        "contact_way": CONTACT_WAYS,
        "leadership": LEADERSHIP,
        "stigma": STIGMA,
        "stigma_channel": STIGMA_CHANNELS,
        "stigma_effect": STIGMA_EFFECTS,
        "priority": PRIORITIES,
    }
)


def label(code: str) -> str:
    """Returns the msgid of any code of any taxonomy (the code itself if unknown)."""
    for taxonomy in ALL.values():
        if code in taxonomy:
            return taxonomy[code]
    return code
