"""What a staff member's phone shows for each notification, in Spanish and English."""

from __future__ import annotations

import pytest

from bot.i18n import render, translations
from bot.notifier import _message
from tests.support.places import BARBACOAS, CACERES, MOMPOX, TIMBIQUI, TUMACO


@pytest.mark.parametrize(("locale", "expected"), [
    ("es", "⏰ Un reporte de San Andrés de Tumaco (Nariño) pasó su plazo sin atención."),
    ("en", "⏰ A report from San Andrés de Tumaco (Nariño) passed its deadline without attention."),
])
def test_one_overdue_report_names_its_place(locale: str, expected: str) -> None:
    catalog = translations(locale)
    assert render(_message("overdue", {"municipalities": [TUMACO]}), catalog) == expected
    # Pings written before digests existed still read the same.
    assert render(_message("overdue", {"municipality": TUMACO}), catalog) == expected


def test_a_batch_of_overdue_reports_is_one_message() -> None:
    codes = [TUMACO, TUMACO, TUMACO, MOMPOX, MOMPOX, BARBACOAS, TIMBIQUI, CACERES]
    text = render(_message("overdue", {"municipalities": codes}), translations("es"))
    assert text == ("⏰ 8 reportes pasaron su plazo sin atención (San Andrés de Tumaco "
                    "(Nariño), Santa Cruz de Mompox (Bolívar), Cáceres (Antioquia) y 2 más). "
                    "Revise la bandeja.")
    english = render(_message("overdue", {"municipalities": codes[:5]}), translations("en"))
    assert english == ("⏰ 5 reports passed their deadline without attention "
                       "(San Andrés de Tumaco (Nariño), Santa Cruz de Mompox (Bolívar)). "
                       "Check your queue.")
