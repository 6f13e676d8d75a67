"""A vendor's message can echo the number it refused: logged, the number is masked and the rest kept."""

from __future__ import annotations

from dialhub.phones import mask_numbers_in


def test_numbers_in_a_vendors_message_are_masked_and_other_digits_kept() -> None:
    assert mask_numbers_in("bad phone +639171234567 (code 4001)") == "bad phone ***4567 (code 4001)"
    assert mask_numbers_in("number 0917 123 4567 refused") == "number ***4567 refused"
    assert mask_numbers_in("row 12 of 5000 refused") == "row 12 of 5000 refused"
