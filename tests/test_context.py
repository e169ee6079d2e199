from paperdcat.corpus.generated import generate_corpus
from paperdcat.corpus.preprocess import build_contexts
from paperdcat.extraction.context import (
    build_context,
    clean_text,
    creator_evidence_recall,
    cue_window,
    evidence_recall,
    head_context,
    mentioned_in_text,
    split_units,
)
from paperdcat.params import PreprocessParams

WINDOW = PreprocessParams().cue_window_words

PAPER = """Learning Sparse Detectors

Abstract
We propose SparseDet, a detector for small objects. It is fast.

1 Introduction
Object detection is a core problem. Many approaches exist. Our method is simple and works well.
Prior work evaluated on PASCAL VOC [2], which we do not use.

2 Method
We stack layers. The loss is a sum of terms. We use a learning rate schedule.

3 Experiments
3.1 Datasets
We evaluate on the COCO dataset [1] for object detection. The data is available at https://cocodataset.org.
Training takes two days on eight GPUs.

References
[1] T. Lin, M. Maire, S. Belongie. Microsoft COCO: Common objects in context. In ECCV, 2014.
[2] M. Everingham, L. Van Gool. The PASCAL visual object classes challenge. IJCV, 2010.
[3] A. Author. An unrelated method. In NeurIPS, 2019.
"""


def count_words(texts: list[str]) -> list[int]:
    return [len(text.split()) for text in texts]


def test_clean_text_joins_hyphenation_and_drops_control_characters():
    assert clean_text("evalu-\nation of\x07 data\t\t sets\n\n\n\nnext") == "evaluation of data sets\n\nnext"
    assert clean_text("ﬁne  tuning\r\nok") == "fine tuning\nok"
    assert clean_text("state-\nOf") == "state-\nOf"


def test_clean_text_reads_pdfium_line_end_hyphen_marks_as_hyphen_and_line_break():
    # pypdfium2's page text: U+FFFE replaces the hyphen and the line break; \x02 is the hyphen's own char
    assert clean_text("the evalu\ufffeation of\r\ndata sets") == "the evaluation of\ndata sets"
    assert clean_text("evalu\x02\r\nation and evalu\x02ation") == "evaluation and evaluation"
    assert clean_text("state\ufffeOf the art") == clean_text("state-\nOf the art") == "state-\nOf the art"
    assert "\ufffe" not in clean_text("end of a word\ufffe")


def test_units_recognise_headings_sentences_and_references():
    units = split_units(clean_text(PAPER))
    assert units[0].kind == "title" and units[0].text == "Learning Sparse Detectors"
    assert [u.text for u in units if u.kind == "heading"][:3] == ["Abstract", "1 Introduction", "2 Method"]
    assert sum(u.kind == "reference" for u in units) == 3
    assert any(u.kind == "sentence" and u.text == "It is fast." for u in units)


def test_context_keeps_evidence_and_cited_reference_within_budget():
    context = build_context(PAPER, 60, count_words, WINDOW)
    assert sum(count_words([line for line in context.split("\n") if line])) <= 60
    assert "COCO dataset [1]" in context and "https://cocodataset.org" in context
    assert "T. Lin, M. Maire" in context
    assert "Learning Sparse Detectors" in context
    assert "An unrelated method" not in context and "The loss is a sum" not in context


def test_context_with_room_for_everything_keeps_the_order_of_the_paper():
    context = build_context(PAPER, 10_000, count_words, WINDOW)
    assert context.index("We propose") < context.index("PASCAL VOC") < context.index("COCO dataset")
    assert context.index("COCO dataset") < context.index("T. Lin")


def test_author_year_citations_pull_their_reference_entry():
    paper = (
        "T\n\nAbstract\nA.\n\n4 Experiments\nWe train on SQuAD (Rajpurkar et al., 2016).\n\nReferences\n"
        "Rajpurkar, P., Zhang, J. (2016). SQuAD: 100,000+ questions. EMNLP.\nOther, A. (2001). Filler. X.\n"
    )
    context = build_context(paper, 40, count_words, WINDOW)
    assert "Rajpurkar, P., Zhang, J." in context and "Filler" not in context


def test_initials_first_entries_and_multiword_surnames_are_found_by_citation():
    paper = (
        "T\n\nAbstract\nA.\n\n4 Datasets\nWe evaluate on LFW (Huang et al., 2007). "
        "NER results on CoNLL-2003 (Tjong Kim Sang and De Meulder, 2003).\n\n5 Results\nIt works.\n\n"
        "References\nA. Zed. 2019. Filler method. In X.\n"
        "G. B. Huang, M. Ramesh, T. Berg, et al. 2007. Labeled Faces in the Wild. Technical report.\n"
        "E. F. Tjong Kim Sang and F. De Meulder. 2003. Introduction to the CoNLL-2003 shared task. CoNLL.\n"
    )
    context = build_context(paper, 80, count_words, WINDOW)
    assert "G. B. Huang, M. Ramesh" in context and "F. De Meulder" in context
    assert "Filler" not in context and "It works" not in context


def test_a_dataset_sentence_brings_its_reference_before_lower_priority_sentences():
    context = build_context(PAPER, 50, count_words, WINDOW)
    assert "COCO dataset [1]" in context and "T. Lin, M. Maire" in context
    assert "available at" not in context and "PASCAL VOC" not in context


def test_cue_window_keeps_the_words_around_each_cue_and_marks_the_cuts():
    sentence = (
        "After a long warm up phase we train on the ImageNet dataset for ninety epochs with SGD and momentum."
    )
    assert cue_window(sentence, 2) == "... phase we train on the ImageNet dataset for ninety ..."
    two_cues = "The first benchmark is small , but a lot of words sit here before the second corpus ends it ."
    assert cue_window(two_cues, 1) == "... first benchmark is ... second corpus ends ..."
    assert cue_window(sentence, 0) == sentence
    assert cue_window("A sentence without any cue at all.", 2) == "A sentence without any cue at all."


def test_a_cut_citation_still_brings_its_reference_entry():
    paper = (
        "T\n\nAbstract\nA.\n\n4 Experiments\nWe report results on CoNLL and then discuss at some length "
        "how every single hyperparameter was chosen (Smith et al., 2010).\n\nReferences\n"
        "Smith, J., Doe, A. (2010). The CoNLL shared task. CoNLL.\n"
    )
    context = build_context(paper, 30, count_words, 2)
    assert "We report results on CoNLL and ..." in context and "hyperparameter" not in context
    assert "Smith, J., Doe, A. (2010)" in context


def test_within_a_cue_tier_a_new_name_beats_a_repeated_one():
    paper = (
        "T\n\nAbstract\nA.\n\n4 Datasets\nWe train on the SQuAD dataset. "
        "The SQuAD dataset has questions. The dataset is split by article. We also use the TriviaQA dataset."
    )
    context = build_context(paper, 22, count_words, WINDOW)
    assert "TriviaQA" in context and "We train on the SQuAD dataset" in context
    assert "has questions" not in context and "split by article" not in context
    in_order = build_context(paper, 10_000, count_words, WINDOW)
    assert in_order.index("SQuAD dataset has") < in_order.index("TriviaQA")


def test_a_list_of_names_is_a_cue_even_without_a_cue_word():
    sentence = "It reaches 33.97dB, 29.96dB and 27.42dB on Set5, Set14, BSD100 and Urban100, respectively."
    paper = f"T\n\nAbstract\nA.\n\n4 Results\nWe tune the model for a long time first. {sentence}"
    context = build_context(paper, 20, count_words, 2)
    assert "Set5, Set14, BSD100 and Urban100" in context and "tune the model" not in context
    assert cue_window(sentence, 1) == "... on Set5, Set14, BSD100 and Urban100, respectively."
    no_names = "Results improve, and then they plateau."
    assert cue_window(no_names, 1) == no_names


def test_a_heading_shaped_like_a_dataset_name_is_kept_without_its_section():
    paper = (
        "T\n\nAbstract\nA.\n\n4 Experiments\nWe evaluate on two tasks.\n\n"
        "4.1 Related Work\nOthers exist.\n\nMNLI\nThe task is to predict entailment.\n\n"
        "SST-2\nThe task is to predict sentiment.\n\nQuora Question Pairs\nThe task is paraphrase."
    )
    context = build_context(paper, 12, count_words, WINDOW)
    assert "MNLI" in context and "SST-2" in context
    assert "Related Work" not in context and "Quora" not in context and "predict" not in context


def test_head_context_cuts_at_the_token_budget():
    class WordTokenizer:
        def __call__(self, text, add_special_tokens=False):
            return {"input_ids": text.split(" ")}

        def decode(self, ids):
            return " ".join(ids)

    assert head_context("a b c d e", 3, WordTokenizer()) == "a b c"


def test_evidence_recall_counts_titles_and_aliases():
    gold = [
        [{"dcterms:title": "COCO", "aliases": ["Microsoft COCO"]}, {"dcterms:title": "ImageNet"}],
        [{"dcterms:title": "Stanford Question Answering Dataset", "aliases": ["SQuAD"]}],
        [],
    ]
    contexts = ["we use microsoft coco.", "results on SQuAD v1.1", "nothing"]
    assert evidence_recall(contexts, gold) == round(2 / 3, 4)
    assert evidence_recall(["imagenet-1k"], [[{"dcterms:title": "ImageNet"}]]) == 1.0
    assert evidence_recall(["cocoa"], [[{"dcterms:title": "COCO"}]]) == 0.0
    assert evidence_recall(["x"], [[]]) is None


def test_creator_evidence_recall_counts_each_creator_name():
    gold = [[{"dcterms:title": "COCO", "dcterms:creator": ["T. Lin", "M. Maire"]}], [{"dcterms:title": "X"}]]
    assert creator_evidence_recall(["[1] T. Lin, S. Belongie.", "x"], gold) == 0.5
    assert creator_evidence_recall(["x", "y"], [[{"dcterms:creator": []}], []]) is None


def test_mentioned_in_text_keeps_the_datasets_the_full_text_names():
    squad = {"dcterms:title": "SQuAD1 1", "aliases": ["Stanford Question Answering Dataset"]}
    marco = {"dcterms:title": "MS MARCO", "aliases": []}
    text = clean_text("We use the Stanford Question-\nAnswering Dataset.")
    assert mentioned_in_text([squad, marco], text) == [squad]
    assert evidence_recall(["we use ms marco"], [mentioned_in_text([squad, marco], text)]) == 0.0


def test_head_strategy_is_the_first_n_tokens_baseline(tiny_model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    papers = generate_corpus(4, seed=1)
    records, stats = build_contexts(
        papers, tokenizer, PreprocessParams(max_context_tokens=128, strategy="head")
    )
    assert [r["context"] for r in records] == [head_context(p["text"], 128, tokenizer) for p in papers]
    assert stats["evidence_recall"] == stats["evidence_recall_head"]
    evidence_records, _ = build_contexts(papers, tokenizer, PreprocessParams(max_context_tokens=128))
    assert [r["context"] for r in evidence_records] != [r["context"] for r in records]
