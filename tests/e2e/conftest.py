"""The deployment a module's end-to-end tests share (one `somos serve` per module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.harness import Deployment, deploy


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy(tmp_path_factory.mktemp("conversations")) as running:
        yield running
