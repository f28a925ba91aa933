"""The p-table of cell-key perturbation: unbiased, bounded, and never exact."""

from __future__ import annotations

import pytest

from storage.cellkey import (
    KEY_SPACE,
    MAX_NOISE,
    add_keys,
    key_range,
    new_record_key,
    noise_table,
    perturb,
    possible_counts,
)

COUNTS = range(0, 40)


@pytest.mark.parametrize("count", COUNTS)
def test_every_count_has_mean_zero_noise_within_the_bound_and_never_below_zero(
    count: int,
) -> None:
    table = noise_table(count)
    assert sum(share for _, share in table) == 100
    assert sum(noise * share for noise, share in table) == 0
    assert all(abs(noise) <= MAX_NOISE and count + noise >= 0 for noise, _ in table)
    covered = sorted((r.start, r.stop) for v in range(count + MAX_NOISE + 1)
                     if len(r := key_range(count, v)))
    assert covered[0][0] == 0 and covered[-1][1] == KEY_SPACE
    assert all(a[1] == b[0] for a, b in zip(covered, covered[1:], strict=False))


def test_an_empty_cell_stays_zero_and_a_zero_does_not_prove_one() -> None:
    assert {perturb(0, key) for key in (0, 1, KEY_SPACE - 1)} == {0}
    assert list(possible_counts(0)) == [0, 1, 2]
    assert key_range(1, 0) and key_range(2, 0)   # one or two reports can show as 0


@pytest.mark.parametrize("value", range(0, 40))
def test_what_a_value_tells_is_exactly_the_counts_that_can_give_it(value: int) -> None:
    can = [n for n in range(0, value + 2 * MAX_NOISE + 2) if key_range(n, value)]
    assert can == list(possible_counts(value))
    assert len(can) >= 3  # never one count: nothing published is ever exact


def test_perturb_reads_the_table_at_the_cell_key() -> None:
    for count in (1, 2, 7):
        for value in range(max(0, count - MAX_NOISE), count + MAX_NOISE + 1):
            keys = key_range(count, value)
            assert perturb(count, keys.start) == perturb(count, keys.stop - 1) == value
    with pytest.raises(ValueError):
        perturb(3, KEY_SPACE)


def test_cell_keys_are_record_keys_summed_modulo_2_to_the_32() -> None:
    keys = [new_record_key() for _ in range(200)]
    assert all(0 <= key < KEY_SPACE for key in keys) and len(set(keys)) > 190
    assert add_keys([KEY_SPACE - 1, 2]) == 1
    assert add_keys(keys) == sum(keys) % KEY_SPACE
