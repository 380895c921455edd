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
     "seen.not.heard", "wet_behind_ears", "20yrs_or_quiet", "interns_dont_speak", "noob_mentees",
     # The sixteenth session's probe: silencing, said to juniors or of them, and sneers.
     "ur2junior2getit", "seniors_talk_juniors_listen", "stay_quiet_newbie", "newbies_just_listen",
     "junior_means_silent", "wait_20_years_kid", "zip_it_junior", "youngsters_be_quiet",
     "be_quiet_grad", "pipe_down_kid", "wait_your_turn_kid", "kids_these_days", "gen_z_lazy",
     "no_juniors_allowed", "hush_newbie",
     # The eighteenth session's probe (probe 9): text-speak, contempt and Hindi in Latin letters.
     "know_ur_place", "WhoAskedYouKid", "stfu_intern", "ur_2_green_kid", "go_fetch_coffee_intern",
     "GetSomeYearsFirst", "youngins_stfu", "NeverListenToJuniors", "junior_opinions_lol",
     "kids_table_only", "Back2Kindergarten", "tum_bahut_junior_ho", "aukaat_mein_raho",
     # The twentieth session's probe (probe 12).
     "SeniorsKnowBest", "AdultsSpeaking", "your_manager_knows_best", "wet_ears_analyst",
     "babyanalyst", "OKZoomer", "ur_2_jnr_lol"],
)  # fmt: skip
def test_a_put_down_run_together_is_refused(name: str) -> None:
    with pytest.raises(AccountError, match="reads as a put-down"):
        validate_username(name)


@pytest.mark.parametrize(
    "name",
    ["grace_w", "toon_ewan", "quietkid", "kidman", "okonkwo", "comebackkid", "newbieguide",
     "cartoonist", "okayama", "juniorknowledge", "gradschool", "grownup_games", "hokkaido",
     "noobmaster", "menteeguide", "okmentor", "speakeasy", "quiet_intern", "junior_listener",
     "junior_quietly", "stay_humble_junior", "kidding_around", "hushpuppy", "genz_insights",
     "youngsters_club", "lazy_sunday", "waitrose_kid", "junior_dev_42", "listen_to_learn",
     "just_fun_jo", "coffee_lover", "first_years_mentor", "kindergarten_teacher", "ask_who",
     "tumble_dry", "mustafa_u", "back_to_basics", "listen_to_juniors", "senior_analyst",
     "baby_steps_hr", "adult_learning_lead", "jnr_dev_sam", "best_manager", "knowbest_kim"],
)  # fmt: skip
def test_names_that_only_hold_the_letters_are_kept(name: str) -> None:
    assert validate_username(name) == name


def test_digits_passed_for_letters_read_alike() -> None:
    """A probe registered 2ed_beta and zed_6eta beside a retired zed_beta; names told apart
    by their digits alone stay apart."""
    from forum.accounts.services import username_skeleton

    for alike in ("2ed_beta", "zed_6eta", "Zed.Beta"):
        assert username_skeleton(alike) == username_skeleton("zed_beta"), alike
    assert username_skeleton("zed_beth") != username_skeleton("zed_beta")
    digits = [username_skeleton(f"member{n}") for n in range(1000)]
    assert len(set(digits)) == 1000
