"""Public codes: the length asked for, only the alphabet without look-alikes, every
character about equally likely, never the same twice in practice."""

from collections import Counter

from adesso.lib.codes import _ALPHABET, new_code


def test_codes_use_the_whole_alphabet_evenly():
    codes = [new_code() for _ in range(20000)]
    assert {len(c) for c in codes} == {12}
    assert len(set(codes)) == len(codes)
    counts = Counter("".join(codes))
    assert set(counts) == set(_ALPHABET)  # no 0/o, 1/l/i
    expected = 20000 * 12 / len(_ALPHABET)
    assert all(abs(n - expected) < expected * 0.08 for n in counts.values()), counts
    assert {len(new_code(n)) for n in (1, 10, 16, 40)} == {1, 10, 16, 40}
