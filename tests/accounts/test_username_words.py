"""Put-downs run together in a username (a fifteenth-session probe registered
youretoojuniortogetthis, yourtoojunior, listen_to_your_elders and shush_intern)."""

from __future__ import annotations

import pytest

from forum.accounts.services import AccountError, validate_username


@pytest.mark.parametrize(
    "name",
    ["youretoojuniortogetthis", "yourtoojunior", "listen_to_your_elders", "shush_intern",
     "ShushIntern", "t00junior", "okjunior", "sit_down_kid", "knowyourplace", "internsknownothing",
     "wetbehindtheears", "seenandnotheard",
     # The probe's second round: seen.not.heard, wet_behind_ears, 20yrs_or_quiet, …
     "seen.not.heard", "wet_behind_ears", "20yrs_or_quiet", "interns_dont_speak", "noob_mentees"],
)  # fmt: skip
def test_a_put_down_run_together_is_refused(name: str) -> None:
    with pytest.raises(AccountError, match="reads as a put-down"):
        validate_username(name)


@pytest.mark.parametrize(
    "name",
    ["grace_w", "toon_ewan", "quietkid", "kidman", "okonkwo", "comebackkid", "newbieguide",
     "cartoonist", "okayama", "juniorknowledge", "gradschool", "grownup_games", "hokkaido",
     "noobmaster", "menteeguide", "okmentor", "speakeasy"],
)  # fmt: skip
def test_names_that_only_hold_the_letters_are_kept(name: str) -> None:
    assert validate_username(name) == name
