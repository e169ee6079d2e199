import torch

from paperdcat.extraction.generation import LOOP_MAX_PERIOD, LOOP_WINDOW, repeating_rows

PROMPT = list(range(100, 130))


def test_a_row_repeating_a_short_period_is_stopped_and_others_go_on():
    loop = PROMPT + [7, 8, 9, 10] + [1, 2, 3] * 30
    varied = PROMPT + list(range(200, 294))
    long_period = PROMPT + (list(range(300, 300 + LOOP_MAX_PERIOD + 1)) * 6)[:94]
    rows = torch.tensor([loop, varied, long_period])
    assert repeating_rows(rows, start=len(PROMPT)).tolist() == [True, False, False]


def test_repetition_inside_the_prompt_or_too_short_an_answer_does_not_stop():
    prompt_loop = [5, 6] * 60 + list(range(400, 470))
    assert not repeating_rows(torch.tensor([prompt_loop]), start=120).any()
    short = PROMPT + [1, 2] * ((LOOP_WINDOW + LOOP_MAX_PERIOD) // 2 - 1)
    assert not repeating_rows(torch.tensor([short]), start=len(PROMPT)).any()
