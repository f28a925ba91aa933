"""The places the tests name: DIVIPOLA codes (flows/data/divipola.csv), one name each.

Nariño and Antioquia are the two areas of most tests: a focal point of one must not see
the other's reports.
"""

from __future__ import annotations

# Departments
NARINO = "52"
ANTIOQUIA = "05"

# Nariño
TUMACO = "52835"  # San Andrés de Tumaco: "a municipality of the area" in most tests
PASTO = "52001"
BARBACOAS = "52079"

# Antioquia
CACERES = "05120"  # the other area: its focal point sees nothing of Nariño
MEDELLIN = "05001"

# Bolívar
CARTAGENA = "13001"
MOMPOX = "13468"  # Santa Cruz de Mompox ("Mompox", "Mompós")

# Cauca
TIMBIQUI = "19809"
