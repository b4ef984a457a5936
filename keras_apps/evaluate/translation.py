"""How good translations are: corpus BLEU (sacreBLEU) and ROUGE-1/2 F1, each sentence against all its references.

sacreBLEU is the field's reference implementation (its signature, stored with the score, says exactly how the
score was computed: tokenization, smoothing, case). ROUGE comes from Google's `rouge-score`, with one change:
its default tokenizer keeps only ASCII letters and digits, which would cut `está` to `est` and drop `¿`-words'
accents; here words are Unicode word characters, lowercased.
"""

import re

import sacrebleu
from rouge_score import rouge_scorer


class UnicodeWords:
    """A `rouge-score` tokenizer: lowercased runs of Unicode word characters."""

    def tokenize(self, text):
        return re.findall(r"\w+", text.lower())


def translation_scores(hypotheses, references):
    """`{"bleu", "bleu_signature", "rouge1_f1", "rouge2_f1"}` for `hypotheses` (one string per sentence)
    against `references` (a list of one or more strings per sentence)."""
    if len(hypotheses) != len(references) or not hypotheses:
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} reference lists")
    if any(not refs for refs in references):
        raise ValueError("every sentence needs at least one reference")
    most = max(len(refs) for refs in references)
    # sacreBLEU takes reference *streams*; sentences with fewer references fill theirs with None.
    streams = [[refs[k] if k < len(refs) else None for refs in references] for k in range(most)]
    bleu = sacrebleu.metrics.BLEU()
    score = bleu.corpus_score(list(hypotheses), streams)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2"], tokenizer=UnicodeWords())
    rouge1 = rouge2 = 0.0
    for hypothesis, refs in zip(hypotheses, references):
        scores = scorer.score_multi(refs, hypothesis)  # the best-matching reference, per ROUGE type
        rouge1 += scores["rouge1"].fmeasure
        rouge2 += scores["rouge2"].fmeasure
    return {
        "bleu": score.score,
        "bleu_signature": str(bleu.get_signature()),
        "rouge1_f1": rouge1 / len(hypotheses),
        "rouge2_f1": rouge2 / len(hypotheses),
    }
