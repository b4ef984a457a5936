"""The reports of preference tuning's stages: the reward model's agreement with human ratings, by how clear
the preference was."""

import numpy as np

from keras_apps.evaluate.report import Table, Text
from keras_apps.evaluate.run_report import write_run_report
from keras_apps.preference.pairs import pairwise_accuracy

GAPS = (1, 2, 3, 4, 5, 6, 7, 8, 9)

# A tuned policy's next step, as its report says it. No `<its export>`: Markdown shows a code span as written, and
# a report's text has its `<` escaped (`report.Text`), which the command a reader copies would keep as `&lt;`.
EVALUATE = "`python -m tasks.rlhf evaluate --policy-export EXPORT`, EXPORT this run's export (below)"


def accuracy_by_gap(rewards, pairs):
    """`[(gap, pairs, accuracy)]` for each rating gap the pairs have: how often the reward model agrees with the
    person who rated the reviews, by how far apart their ratings were."""
    return [(gap, int(np.sum(pairs.gaps == gap)), pairwise_accuracy(rewards, pairs.at_least(gap).at_most(gap)))
            for gap in GAPS if np.any(pairs.gaps == gap)]


def write_reward_report(run_directory, metrics, *, rewards, pairs, splits, shown=3):
    """`report.html` and `report.md` of a reward model: its data, its pairwise accuracy on test pairs (overall,
    clear pairs, by gap), the `shown` test openings it rewards most and least, training and the export.
    `rewards` are those of the reviews of `splits.test`, among which `pairs` were drawn."""
    test, by_gap, order = metrics["test"], accuracy_by_gap(rewards, pairs), np.argsort(rewards)
    examples = [(float(rewards[index]), int(splits.test.ratings[index]),
                 " ".join(splits.test.texts[index].split())[:300])  # on one line: a line break ends a table row
                for index in (*order[::-1][:shown], *order[:shown])]
    counts = {"train": len(splits.train), "validation": len(splits.validation), "test (scored)": len(splits.test)}
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


def write_evaluation(directory, points, examples, *, prompts, new_tokens, sft, judge, reward):
    """`frontier.json`, `report.html` and `report.md` of an evaluation of policies on held-out prompts: each
    method's point of the reward–KL frontier, and the same test prompts continued by each method; prints each
    point. `sft`, `judge` and `reward` are the export versions measured by and against, named so the numbers can
    be traced; a policy's point names its own (`frontier`)."""
    from keras_apps import files
    from keras_apps.evaluate.plots import plot_frontier
    from keras_apps.evaluate.report import Code, Image, write_report
    from keras_apps.preference.evaluation import FIGURES

    files.write_json(directory / "frontier.json", {"points": points, "prompts": prompts, "new_tokens": new_tokens,
                                                   "sft": str(sft), "judge": str(judge), "reward": str(reward)})
    names = [row["method"] + "".join(f", {key} {value}" for key, value in row.items()
                                     if key not in ("method", *FIGURES)) for row in points]
    rows = [(name, f"{row['judge']:.4f}", f"{row['reward']:+.3f}", f"{row['kl']:.2f}")
            for name, row in zip(names, points)]
    write_report(directory, "Preference tuning: policies on held-out prompts", [
        ("The reward–KL frontier", [
            Text(f"{prompts:,} prompts (the first 2-8 subwords of test reviews), each continued by {new_tokens} "
                 f"subwords sampled at temperature 1. Reference: the SFT model {sft}. Judge: {judge} (P(positive), a "
                 f"classifier no tuning step saw); reward: {reward}'s score; KL(π‖π_ref) in nats, estimated from the "
                 f"samples (best-of-N: log N − (N − 1)/N). Each policy is named by its export version."),
            Table(["method", "judge P(positive)", "reward", "KL (nats)"], rows),
            Image(plot_frontier(points, directory / "frontier.png"), "judge and reward against KL, each point"),
        ]),
        ("The same prompts, continued", [Code(f"{method}: {text}") for method, text in examples]),
    ])
    for name, row in zip(names, points):
        print(f"{name}: judge {row['judge']:.4f}, reward {row['reward']:+.3f}, KL {row['kl']:.2f}")
    print(f"report: {directory / 'report.html'}")


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
        ]), Text(f"How positive the policy writes, and how far it moved, is measured on test prompts by {EVALUATE}.")]),
    ]
    write_run_report(run_directory, f"DPO (beta {beta}): preference tuning, stage 3", metrics, sections,
                     ("training pairs per second", f"{metrics['train_examples_per_second']:,.1f}"))


def write_ppo_report(run_directory, metrics, history, kl_target, shown=12):
    """`report.html` and `report.md` of a PPO run: its iterations' reward, KL, KL coefficient and entropy (a
    dozen rows of them; all are in `history.csv`, the curves and TensorBoard), training, export."""
    step = max(1, -(-len(history) // shown))
    rows = [(int(row["epoch"]) + 1, f"{row['score']:+.3f}", f"{row['kl']:.2f}", f"{row['kl_coefficient']:.4f}",
             f"{row['entropy']:.3f}", f"{row['clip_fraction']:.3f}", f"{row['value_loss']:.4f}")
            for row in [*history[:-1:step], history[-1]]]
    sections = [("Iterations", [
        Text(f"Each iteration samples fresh responses from the policy, rewards them by the reward model less the "
             f"KL penalty, and updates the policy on them. score: the reward model's mean; KL: to the SFT model, "
             f"nats a response, from the same samples; its coefficient is steered towards KL {kl_target}."),
        Table(["iteration", "score", "KL", "KL coefficient", "entropy", "clipped", "value loss"], rows),
        Text(f"How positive the policy writes on test prompts, by a judge no stage trained against, is measured by "
             f"{EVALUATE}."),
    ])]
    write_run_report(run_directory, f"PPO (KL target {kl_target}): preference tuning, stage 3", metrics, sections,
                     ("rollout minibatch rows per second", f"{metrics['train_examples_per_second']:,.1f}"))
