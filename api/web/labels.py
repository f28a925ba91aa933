"""Spanish names (msgids) of the codes the pages show; translated when rendered."""

from __future__ import annotations

from flows.messages import N_

STATUS = {
    "new": N_("Nuevo"),
    "in_review": N_("En revisión"),
    "referred": N_("Remitido"),
    "follow_up": N_("En seguimiento"),
    "closed": N_("Cerrado"),
}
# A case form's heading or button for each status it may move to.
MOVE = {
    "in_review": N_("Pasar a revisión"),
    "referred": N_("Remitir a una entidad"),
    "follow_up": N_("Pasar a seguimiento"),
    "closed": N_("Cerrar el caso"),
}
URGENCY = {
    "immediate": N_("Inmediata"),
    "high": N_("Alta"),
    "normal": N_("Normal"),
}
KIND = {
    "threat": N_("Amenaza o riesgo"),
    "stigma": N_("Estigmatización"),
    "priority": N_("Prioridades de seguridad"),
}
ENTITY = {
    "unp": N_("UNP (Unidad Nacional de Protección)"),
    "defensoria": N_("Defensoría del Pueblo"),
    "fiscalia": N_("Fiscalía"),
    "personeria": N_("Personería"),
    "policia": N_("Policía"),
    "procuraduria": N_("Procuraduría"),
    "icbf": N_("ICBF"),
    "other": N_("Otra entidad"),
}
CLOSING_REASON = {
    "attended": N_("Atendido"),
    "referred_externally": N_("Remitido a otra entidad"),
    "no_contact": N_("No fue posible el contacto"),
    "duplicate": N_("Duplicado"),
    "unfounded": N_("Sin fundamento"),
}
ROLE = {
    "focal_point": N_("Punto focal"),
    "analyst": N_("Analista"),
    "admin": N_("Administración"),
}
EVENT = {
    "note": N_("Nota interna"),
    "to_reporter": N_("Mensaje a la persona que reportó"),
    "from_reporter": N_("Respuesta de la persona que reportó"),
    "status": N_("Cambio de estado"),
    "protection": N_("Solicitud de protección"),
    "assignment": N_("Asignación"),
    "reference": N_("Radicado agregado"),
}
