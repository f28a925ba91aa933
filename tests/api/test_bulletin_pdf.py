"""The bulletin's PDF read back as a person would see it: its first page drawn to pixels
(PDFium), read by OCR (Debian's tesseract, Spanish), the map found by its colour; and its
text layer, where no number in 1..k−1 may appear."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from api.bulletin import PUBLIC_K, Bulletin, build_bulletin, latest_quarter, render_html, render_pdf
from api.demo import seed
from api.web.choropleth import MARKED_FILL, OTHER_FILL
from storage.store import Store
from tests.support.places import TUMACO

TESSERACT = shutil.which("tesseract")
NUMBER = re.compile(r"\d{1,3}(?:[.,\u00a0\u202f]\d{3})+|\d+")


def plain(text: str) -> str:
    """Lower case without accents or line breaks: what OCR reliably gives back."""
    folded = unicodedata.normalize("NFKD", text.lower())
    return " ".join("".join(c for c in folded if not unicodedata.combining(c)).split())


def numbers(text: str) -> list[int]:
    return [int(re.sub(r"\D", "", token)) for token in NUMBER.findall(text)]


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def pixels_near(image: Image.Image, colour: str, box: tuple[int, int, int, int]) -> int:
    target = rgb(colour)
    data = image.convert("RGB").crop(box).tobytes()
    return sum(1 for i in range(0, len(data), 3)
               if all(abs(data[i + j] - target[j]) <= 12 for j in range(3)))


@pytest.fixture
async def made(store: Store) -> Bulletin:
    await seed(store=store, count=1500, departments=("52",), seed_value=17,
               municipalities=[TUMACO])
    async with store.transaction() as session:
        return await build_bulletin(session, code=TUMACO, period=latest_quarter(), k=5)


def first_page(pdf: bytes, tmp_path: Path) -> tuple[Image.Image, str, Path]:
    document = pdfium.PdfDocument(pdf)
    page = document[0]
    image = page.render(scale=200 / 72).to_pil()
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    path = tmp_path / "pagina-1.png"
    image.save(path)
    return image, text, path


async def test_the_pdf_shows_the_name_the_priorities_and_the_map_and_no_small_number(
    made: Bulletin, tmp_path: Path,
) -> None:
    assert made.priorities.concerns, "seeded Tumaco has published priorities"
    image, text, png = first_page(render_pdf(render_html(made, "es")), tmp_path)
    # The map: the marked municipality's orange, among the department's grey, in the right
    # half of the page where the map stands.
    width, height = image.size
    right_half = (width // 2, 0, width, height // 2)
    assert pixels_near(image, MARKED_FILL, right_half) > 200
    assert pixels_near(image, OTHER_FILL, right_half) > 5 * pixels_near(image, MARKED_FILL,
                                                                        right_half)
    assert pixels_near(image, MARKED_FILL, (0, 0, width // 2, height)) == 0
    # Every number of the text layer (all pages) is at least k: counts, years, the code.
    # The median time to a first action is a time, not a count: it is left out by its text.
    assert made.work.median_hours is None  # seeded cases have no action: a dash
    small = [value for value in numbers(text) if 1 <= value < made.k]
    assert not small, small
    assert made.k == PUBLIC_K
    if TESSERACT is None:
        pytest.skip("sin tesseract: instale tesseract-ocr y tesseract-ocr-spa (CI los instala)")
    read = plain(subprocess.run([TESSERACT, str(png), "-", "-l", "spa"], capture_output=True,
                                text=True, check=True, timeout=120).stdout)
    assert "san andres de tumaco" in read
    assert "prioridades de la comunidad" in read
    assert plain(made.priorities.concerns[0].label) in read
    assert "lo mas reportado en el periodo" in read


async def test_the_english_pdf_reads_in_english(made: Bulletin, tmp_path: Path) -> None:
    _image, text, _png = first_page(render_pdf(render_html(made, "en")), tmp_path)
    assert "Community priorities" in text and "Reported most in the period" in text
    assert not [value for value in numbers(text) if 1 <= value < made.k]
