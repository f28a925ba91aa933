"""The map's geometry and classes, without a database."""

from __future__ import annotations

import re

from api.web.choropleth import FILLS, WIDTH, _paths, boundaries, class_of, shade_classes
from flows.municipalities import DEFAULT_DEPARTMENTS, Catalog


def test_classes_cover_every_published_count_once_light_to_dark() -> None:
    assert shade_classes([]) == shade_classes([0, 0]) == ()
    (only,) = shade_classes([7, 7, 7])
    assert (only.low, only.high) == (7, 7)
    counts = [5, 5, 6, 7, 8, 9, 12, 15, 22, 40, 41, 90]
    classes = shade_classes(counts)
    assert len(classes) == len(FILLS) and [c.fill for c in classes] == list(FILLS)
    assert classes[0].low == min(counts) and classes[-1].high == max(counts)
    for lower, upper in zip(classes, classes[1:], strict=False):
        assert lower.high + 1 == upper.low  # contiguous, no gaps, no overlaps
    assert all(classes[class_of(classes, v)].low <= v <= classes[class_of(classes, v)].high
               for v in counts)


def test_every_covered_municipality_has_an_outline_within_the_drawing() -> None:
    country = Catalog.load(departments=None)
    codes = tuple(m.code for d in DEFAULT_DEPARTMENTS for m in country.in_department(d))
    assert set(codes) <= set(boundaries()) and len(codes) == 373
    assert "27086" not in boundaries()  # Belén de Bajirá: created after DANE's 2018 frame
    paths, height = _paths(codes)
    assert set(paths) == set(codes) and 600 < height < 1200
    for d in paths.values():
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d)?", d)]
        assert numbers and all(0 <= n <= max(WIDTH, height) for n in numbers)
        assert not re.search(r"\.\d\d", d)  # rounded to a tenth
