"""PDFs made into pictures of their pages, as Dangerzone makes documents safe.

A PDF can carry what nobody sees on its pages: document info and XMP (authors,
dates, software), XMP on every image and form, `/PieceInfo`, page thumbnails
that are JPEGs with their own EXIF, attached files, JavaScript that runs when the
file is opened, links that call home when clicked. Rather than look for each of
them, every page is rendered to pixels (PDFium, through pypdfium2; this build
runs no JavaScript) and a new PDF is written around those pictures, one JPEG a
page. What survives is what the pages show; text survives only as pixels (it can
be read, not selected or searched). The page count is read before any page is
rendered, and a PDF over the limit is refused.
"""

from __future__ import annotations

import io
import math

import pypdfium2 as pdfium
from PIL import Image

from bot.cleaning import MAX_PAGES
from bot.refusals import EvidenceError

DPI = 150
# A page is rendered at 150 DPI, or smaller when that would pass 5 million pixels or
# 10,000 a side (A3 at 150 DPI is 4.4 MP; a poster or a strip is scaled down, not refused;
# a JPEG cannot pass 65,500 a side).
MAX_PAGE_PIXELS = 5_000_000
MAX_PAGE_SIDE = 10_000
JPEG_QUALITY = 80
# Room left for the PDF's own objects (catalog, page tree, a few hundred bytes a page).
_STRUCTURE_BYTES = 64 * 1024


def _render(page: pdfium.PdfPage) -> tuple[Image.Image, float, float]:
    """The page's pixels, and its size in points (its rotation applied)."""
    width, height = page.get_size()
    if not (0 < width < 1e6 and 0 < height < 1e6):
        raise EvidenceError("unsupported")
    scale = min(DPI / 72, math.sqrt(MAX_PAGE_PIXELS / (width * height)),
                MAX_PAGE_SIDE / max(width, height))
    bitmap = page.render(scale=scale, may_draw_forms=False, draw_annots=True,
                         fill_color=(255, 255, 255, 255))
    picture = bitmap.to_pil()
    return (picture if picture.mode == "RGB" else picture.convert("RGB")), width, height


def _jpeg(picture: Image.Image, budget: int) -> tuple[bytes, tuple[int, int]]:
    """The page as a JPEG of at most `budget` bytes, smaller in pixels if it must be."""
    for _ in range(6):
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=JPEG_QUALITY)
        if out.tell() <= budget:
            return out.getvalue(), picture.size
        picture = picture.resize((max(1, picture.width * 3 // 4),
                                  max(1, picture.height * 3 // 4)), Image.Resampling.LANCZOS)
    raise EvidenceError("too_large")


class _Writer:
    """A PDF of one JPEG per page and nothing else: no document info, no XMP, no
    identifier, no date, no producer (Pillow's PDF writer stamps the second it ran)."""

    def __init__(self) -> None:
        self.out = io.BytesIO()
        self.out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        self.offsets: dict[int, int] = {}
        self.written = 0
        self._object(1, b"<< /Type /Catalog /Pages 2 0 R >>")

    def _object(self, number: int, body: bytes, stream: bytes | None = None) -> None:
        self.offsets[number] = self.out.tell()
        self.out.write(b"%d 0 obj\n" % number + body)
        if stream is not None:
            self.out.write(b"\nstream\n" + stream + b"\nendstream")
        self.out.write(b"\nendobj\n")

    def add_page(self, jpeg: bytes, pixels: tuple[int, int], size: tuple[float, float]) -> None:
        page, content, image = (3 + 3 * self.written + i for i in range(3))
        width, height = (f"{value:.3f}".encode() for value in size)
        self._object(page, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] "
                     b"/Resources << /XObject << /P %d 0 R >> >> /Contents %d 0 R >>"
                     % (width, height, image, content))
        drawing = b"q %s 0 0 %s 0 0 cm /P Do Q" % (width, height)
        self._object(content, b"<< /Length %d >>" % len(drawing), drawing)
        self._object(image, b"<< /Type /XObject /Subtype /Image /Width %d /Height %d "
                     b"/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode "
                     b"/Length %d >>" % (*pixels, len(jpeg)), jpeg)
        self.written += 1

    def finish(self) -> bytes:
        kids = b" ".join(b"%d 0 R" % (3 + 3 * i) for i in range(self.written))
        self._object(2, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, self.written))
        start = self.out.tell()
        count = len(self.offsets) + 1
        self.out.write(b"xref\n0 %d\n0000000000 65535 f \n" % count)
        for number in range(1, count):
            self.out.write(b"%010d 00000 n \n" % self.offsets[number])
        self.out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                       % (count, start))
        return self.out.getvalue()


def clean_pdf(data: bytes, *, max_bytes: int) -> bytes:
    """A new PDF made of pictures of the pages: what they show and nothing else."""
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:  # damaged, or locked with a password
        raise EvidenceError("unsupported") from error
    try:
        pages = len(document)
        if pages > MAX_PAGES:
            raise EvidenceError("too_many_pages")
        if pages < 1:
            raise EvidenceError("unsupported")
        budget = (max_bytes - _STRUCTURE_BYTES) // pages
        writer = _Writer()
        for index in range(pages):
            page = document[index]
            try:
                picture, width, height = _render(page)
            finally:
                page.close()
            jpeg, pixels = _jpeg(picture, budget)
            del picture
            writer.add_page(jpeg, pixels, (width, height))
        return writer.finish()
    except EvidenceError:
        raise
    except (pdfium.PdfiumError, ValueError, OSError) as error:  # OSError: Pillow's encoder
        raise EvidenceError("unsupported") from error
    finally:
        document.close()
