"""`somos bulletin` as an operator runs it before a security council: HTML and PDF files."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from api.bulletin import latest_quarter
from tests.support.harness import SOMOS, Somos
from tests.support.places import TUMACO

pytestmark = pytest.mark.e2e


def test_somos_bulletin_writes_html_and_pdf_with_protected_figures(tmp_path: Path) -> None:
    somos = Somos(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'somos.db'}")
    somos.run("init")
    assert "1500 reportes" in somos.run("demo", "seed", "--reports", "1500", "--seed", "8",
                                       "--municipality", TUMACO, timeout=300)
    period = latest_quarter().code
    out = tmp_path / "boletines"
    said = somos.run("bulletin", TUMACO, "--period", period, "--out", str(out))
    html = out / f"boletin-{TUMACO}-{period}.html"
    pdf = out / f"boletin-{TUMACO}-{period}.pdf"
    assert str(html) in said and str(pdf) in said
    text = html.read_text(encoding="utf-8")
    assert "<style>" in text  # a file stands alone: its stylesheet is inside
    shown = [int(v) for v in re.findall(r'data-figure="(\d+)"', text)]
    assert shown and all(value >= 10 for value in shown)
    document = pdfium.PdfDocument(pdf.read_bytes())
    first = document[0].get_textpage().get_text_range()
    assert "San Andrés de Tumaco" in first and "Prioridades de la comunidad" in first
    english = somos.run("bulletin", TUMACO, "--period", period, "--lang", "en", "--out",
                        str(out))
    assert f"boletin-{TUMACO}-{period}.en.pdf" in english
    for args, says in ((["99999"], "No existe el municipio 99999"),
                       ([TUMACO, "--period", "2026-Q7"], "Escriba un trimestre como 2026-Q3"),
                       ([TUMACO, "--period", "2999-01"], "no ha terminado")):
        refused = subprocess.run([SOMOS, "bulletin", *args, "--out", str(out)],
                                 capture_output=True, text=True, env=somos.env(), timeout=120,
                                 check=False)
        assert refused.returncode == 1 and says in refused.stderr, refused.stderr
