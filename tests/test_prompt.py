from paperdcat.extraction.parse import format_answer, parse_answer
from paperdcat.extraction.prompt import IGNORE_INDEX, prompt_ids, tokenize_records, training_example

DATASETS = [{"dcterms:title": "CIFAR-10", "dcterms:creator": ["A. Krizhevsky"], "dcterms:issued": "2009"}]


def test_loss_falls_on_the_answer_only(tiny_model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    example = training_example(tokenizer, "We evaluate on CIFAR-10 [1].", DATASETS, max_length=4096)
    prompt = prompt_ids(tokenizer, "We evaluate on CIFAR-10 [1].")
    assert example["input_ids"][: len(prompt)] == prompt
    assert example["labels"][: len(prompt)] == [IGNORE_INDEX] * len(prompt)
    answer = [
        token
        for token, label in zip(example["input_ids"], example["labels"], strict=True)
        if label != IGNORE_INDEX
    ]
    assert answer == example["input_ids"][len(prompt) :]
    text = tokenizer.decode(answer)
    assert text.startswith(format_answer(DATASETS)) and "<|im_end|>" in text
    assert parse_answer(tokenizer.decode(answer, skip_special_tokens=True)).datasets[0][
        "dcterms:creator"
    ] == ["A. Krizhevsky"]
    assert not example["truncated"]


def test_long_examples_are_cut_and_counted(tiny_model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    records = [{"context": "short", "datasets": []}, {"context": "long " * 400, "datasets": DATASETS}]
    dataset, stats = tokenize_records(records, tokenizer, max_length=300)
    assert stats["examples"] == 2 and stats["truncated"] == 1 and stats["tokens_max"] == 300
    assert all(
        len(ids) == len(labels) <= 300
        for ids, labels in zip(dataset["input_ids"], dataset["labels"], strict=True)
    )
