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


def test_the_shared_prefix_is_what_every_prompt_begins_with_less_one_token():
    from paperdcat.extraction.generation import shared_prefix_length

    assert shared_prefix_length([[1, 2, 3, 4], [1, 2, 3, 9, 9], [1, 2, 7]]) == 2
    assert shared_prefix_length([[1, 2, 3], [1, 2, 3, 4]]) == 2  # one token left to generate from
    assert shared_prefix_length([[1, 2, 3]]) == 0
    assert shared_prefix_length([[5, 2], [1, 2]]) == 0


def contexts_of(n: int) -> list[str]:
    from paperdcat.corpus.generated import generate_corpus

    return [paper["text"][: 200 + 150 * i] for i, paper in enumerate(generate_corpus(n, seed=3))]


def test_a_shared_prefix_cache_gives_the_answers_of_whole_prompts(tiny_model_dir):
    from paperdcat.extraction.generation import generate_batches, load_model

    model, tokenizer = load_model(tiny_model_dir)
    contexts = contexts_of(5)
    runs = {
        share: {
            index: (answer, count)
            for batch in generate_batches(
                model, tokenizer, contexts, 24, 3, share_prefix=share, stop_at_answer_end=False
            )
            for index, answer, count in zip(batch.indices, batch.answers, batch.new_tokens, strict=True)
        }
        for share in (False, True)
    }
    assert sorted(runs[True]) == list(range(5))
    assert runs[True] == runs[False]
    assert any(count > 0 for _, count in runs[True].values())


def test_precision_auto_keeps_every_cpu_in_fp32_and_bf16_is_asked_for(monkeypatch):
    from paperdcat import hardware
    from paperdcat.extraction.generation import inference_device_and_dtype

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for flags in ({"avx2"}, {"avx512_bf16"}, {"amx_bf16"}):
        monkeypatch.setattr(hardware, "cpu_flags", lambda flags=flags: flags | {"fma"})
        assert inference_device_and_dtype() == (torch.device("cpu"), torch.float32)
        assert inference_device_and_dtype("fp32")[1] == torch.float32
        assert inference_device_and_dtype("bf16")[1] == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert inference_device_and_dtype() == (torch.device("cuda"), torch.bfloat16)
    assert inference_device_and_dtype("fp32") == (torch.device("cuda"), torch.float32)


def test_bf16_weights_generate_through_the_shared_prefix_cache(tiny_model_dir):
    from paperdcat.extraction.generation import generate_batches, load_model, precision_name

    model, tokenizer = load_model(tiny_model_dir, "bf16")
    assert model.dtype == torch.bfloat16 and precision_name(model) == "bf16"
    batches = list(generate_batches(model, tokenizer, contexts_of(4), 12, 2, stop_at_answer_end=False))
    assert sorted(i for batch in batches for i in batch.indices) == [0, 1, 2, 3]
    counts = [count for batch in batches for count in batch.new_tokens]
    assert all(count <= 12 for count in counts) and any(count > 0 for count in counts)


class PieceTokenizer:
    """Token id i decodes to ``pieces[i]``: enough of a tokenizer for ``AnswerEnd``."""

    def __init__(self, pieces: list[str]):
        self.pieces = pieces

    def decode(self, ids) -> str:
        return "".join(self.pieces[i] for i in ids)


def answer_end_columns(pieces: list[str], start: int = 2) -> list[int | None]:
    """For one row generating ``pieces`` after a ``start``-token prompt: the column where it stops."""
    from paperdcat.extraction.generation import AnswerEnd

    tokenizer = PieceTokenizer(["<p>"] * start + pieces)
    ids = torch.arange(start + len(pieces)).unsqueeze(0)
    answer_end, done = AnswerEnd(tokenizer, 1, start), torch.zeros(1, dtype=torch.bool)
    for width in range(start + 1, ids.shape[1] + 1):
        done = answer_end(ids[:, :width], done)
        if done[0]:
            return [width - 1]
    return [None]


def test_a_row_stops_when_its_json_answer_closes():
    pieces = ['[{"', 'title": "', "A ]} [x", '"}', "]", " and then", " prose"]
    assert answer_end_columns(pieces) == [2 + 4]  # not at the brackets inside the string
    assert answer_end_columns(["```json\n", "[", "]", "\n```"]) == [2 + 2]  # [] is an answer
    escaped = ['[{"title": "a \\"', ']"}', "]"]
    assert answer_end_columns(escaped) == [2 + 2]


def test_prose_brackets_and_non_answers_do_not_stop_a_row():
    assert answer_end_columns(["see [1]", " and", ' [{"title": "B"}]']) == [2 + 2]
    assert answer_end_columns(['{"note": 1}', " more"]) == [None]
