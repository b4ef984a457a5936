"""Translation scores against hand-computed cases: sacreBLEU over all references, ROUGE on Unicode words."""

import pytest
import sacrebleu

from keras_apps.evaluate.translation import UnicodeWords, translation_scores


def test_identical_translations_score_perfectly():
    sentences = ["¿Dónde está la estación de tren?", "Me gusta mucho el café con leche."]
    scores = translation_scores(sentences, [[sentence] for sentence in sentences])
    assert scores["bleu"] == pytest.approx(100.0)
    assert scores["rouge1_f1"] == pytest.approx(1.0) and scores["rouge2_f1"] == pytest.approx(1.0)
    assert scores["bleu_signature"].startswith("nrefs:1|case:mixed")


def test_each_sentence_is_scored_against_its_best_reference():
    hypotheses = ["Estoy muy bien hoy.", "Buenos días a todos."]
    one = translation_scores(hypotheses, [["Me encuentro muy bien hoy."], ["Buenos días a todos."]])
    both = translation_scores(hypotheses, [["Me encuentro muy bien hoy.", "Estoy muy bien hoy."],
                                           ["Buenos días a todos."]])
    assert both["bleu"] == pytest.approx(100.0) and both["bleu"] > one["bleu"] > 0
    assert both["rouge1_f1"] == pytest.approx(1.0) and both["rouge2_f1"] == pytest.approx(1.0)
    # Against "Me encuentro muy bien hoy": 3 of 4 words shared with 5 (F1 2/3), 2 of 3 bigrams with 4 (F1 4/7).
    assert one["rouge1_f1"] == pytest.approx((2 / 3 + 1.0) / 2)
    assert one["rouge2_f1"] == pytest.approx((4 / 7 + 1.0) / 2)
    assert both["bleu_signature"].startswith("nrefs:var")


def test_rouge_words_keep_accents_and_ignore_case_and_punctuation():
    assert UnicodeWords().tokenize("¿Está Bien, Señor?") == ["está", "bien", "señor"]
    # "esta" is not "está": an ASCII-only tokenizer would score this pair as a perfect match.
    assert translation_scores(["Esta bien."], [["Está bien."]])["rouge1_f1"] == pytest.approx(0.5)


def test_mismatched_inputs_are_rejected():
    with pytest.raises(ValueError, match="hypotheses"):
        translation_scores(["a"], [["a"], ["b"]])
    with pytest.raises(ValueError, match="reference"):
        translation_scores(["a"], [[]])
    with pytest.raises(ValueError, match="hypotheses"):
        translation_scores([], [])


def test_bleu_is_sacrebleu_s_standard_corpus_bleu_of_the_hypotheses_against_the_references():
    # Accents, punctuation and a sentence with no matching 4-gram: the tokenizer and the smoothing both show.
    hypotheses = ["¿Dónde está la estación?", "Me gusta el té.", "Hola amigo mío, ¿qué tal?"]
    references = ["¿Dónde está la estación de tren?", "A mí me gusta mucho el té.", "Hola, amigo mío. ¿Qué tal?"]
    scores = translation_scores(hypotheses, [[reference] for reference in references])
    assert scores["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hypotheses, [references]).score)
    assert scores["bleu"] != pytest.approx(sacrebleu.corpus_bleu(references, [hypotheses]).score)
    no_four_gram = translation_scores(["Me gusta el té."], [["A mí me gusta té."]])["bleu"]
    assert no_four_gram == pytest.approx(sacrebleu.corpus_bleu(["Me gusta el té."], [["A mí me gusta té."]]).score)
