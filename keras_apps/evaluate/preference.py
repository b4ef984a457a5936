"""The reports of preference tuning's stages: the reward model's agreement with human ratings, by how clear
the preference was."""

import numpy as np

from keras_apps.evaluate.report import Table, Text
from keras_apps.evaluate.run_report import write_run_report
from keras_apps.preference.pairs import pairwise_accuracy

GAPS = (1, 2, 3, 4, 5, 6, 7, 8, 9)


def accuracy_by_gap(rewards, pairs):
    """`[(gap, pairs, accuracy)]` for each rating gap the pairs have: how often the reward model agrees with the
    person who rated the reviews, by how far apart their ratings were."""
    return [(gap, int(np.sum(pairs.gaps == gap)), pairwise_accuracy(rewards, pairs.at_least(gap).at_most(gap)))
            for gap in GAPS if np.any(pairs.gaps == gap)]


def write_reward_report(run_directory, metrics, *, by_gap, examples, counts):
    """`report.html` and `report.md` of a reward model: its data, its pairwise accuracy on test pairs (overall,
    clear pairs, by gap), the test openings it rewards most and least, training and the export."""
    test = metrics["test"]
    sections = [
        ("Data", [Table(["split", "reviews"], [(name, f"{count:,}") for name, count in counts.items()])]),
        ("Agreement with the raters, on pairs of test reviews", [
            Text(f"Pairwise accuracy {test['pairwise_accuracy']:.4f} on {test['pairs']:,.0f} pairs of differently "
                 f"rated test reviews; {test['pairwise_accuracy_clear']:.4f} on the {test['clear_pairs']:,.0f} whose "
                 f"ratings are 4 or more points apart. A pair counts when the review rated higher gets the higher "
                 f"reward (ties half)."),
            Table(["rating gap", "pairs", "pairwise accuracy"],
                  [(gap, f"{count:,}", f"{accuracy:.4f}") for gap, count, accuracy in by_gap]),
        ]),
        ("The test openings it rewards most and least", [
            Table(["reward", "rating", "opening"],
                  [(f"{reward:+.2f}", rating, text) for reward, rating, text in examples]),
        ]),
    ]
    write_run_report(run_directory, "Reward model (preference tuning, stage 2)", metrics, sections,
                     ("training reviews per second", f"{metrics['train_examples_per_second']:,.1f}"))


def write_frontier_report(directory, title, points, examples, *, prompts, new_tokens, judge):
    """`report.html` and `report.md` of an evaluation: each method's point of the reward–KL frontier, and the
    same test prompts continued by each method."""
    from keras_apps.evaluate.report import Code, write_report

    from keras_apps.preference.evaluation import FIGURES

    rows = [(row["method"] + "".join(f", {key} {value}" for key, value in row.items()
                                     if key not in ("method", *FIGURES)),
             f"{row['judge']:.4f}", f"{row['reward']:+.3f}", f"{row['kl']:.2f}") for row in points]
    return write_report(directory, title, [
        ("The reward–KL frontier", [
            Text(f"{prompts:,} prompts (the first 2-8 subwords of test reviews), each continued by {new_tokens} "
                 f"subwords sampled at temperature 1. Judge: {judge} (P(positive), a classifier no tuning step "
                 f"saw); reward: the reward model's score; KL(π‖π_ref) in nats, estimated from the samples "
                 f"(best-of-N: log N − (N − 1)/N)."),
            Table(["method", "judge P(positive)", "reward", "KL (nats)"], rows),
        ]),
        ("The same prompts, continued", [Code(f"{method}: {text}") for method, text in examples]),
    ])


def write_dpo_report(run_directory, metrics, pairs, beta, held_out):
    """`report.html` and `report.md` of a DPO run: its pairs, how it fits the held-out ones, training, export."""
    margins = pairs["margin"]
    sections = [
        ("Pairs", [Text(f"{len(margins):,} pairs of continuations of the openings of training reviews, sampled from "
                        f"the SFT model; the reward model scores the chosen one higher by {margins.mean():.2f} on "
                        f"average (median {np.median(margins):.2f}). A tenth is held out.")]),
        (f"DPO, beta {beta}, on the held-out pairs", [Table(["figure", "value"], [
            ("loss (−log σ of the preference logit)", f"{held_out['loss']:.4f}"),
            ("pairs the policy prefers more than the SFT model does", f"{held_out['preference_accuracy']:.4f}"),
        ]), Text("How positive the policy writes, and how far it moved, is measured on test prompts by "
                 "`python -m tasks.rlhf evaluate --policy-export <its export>`.")]),
    ]
    write_run_report(run_directory, f"DPO (beta {beta}): preference tuning, stage 3", metrics, sections,
                     ("training pairs per second", f"{metrics['train_examples_per_second']:,.1f}"))
