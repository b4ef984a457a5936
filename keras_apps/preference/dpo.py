"""DPO's data, as the DPO paper makes it for IMDb (its §6.1): for each prompt, two responses sampled from the
reference model, the one the reward scores higher preferred, and the reference's log-probabilities of
both, computed once (π_ref never changes while the policy trains)."""

import numpy as np
import tensorflow as tf

from keras_apps import files
from keras_apps.preference.evaluation import log_probabilities, sample_responses
from keras_apps.preference.stages import DPO_LABELS

SIDES = ("chosen", "rejected")


def preference_pairs(reference, reward, prompts, new_tokens, *, candidates=2, seed=0):
    """The inputs of `models.dpo_trainer` (a dict of arrays, one row per pair), and `margin`, the reward of the
    chosen response less the rejected one's. Of `candidates` responses to each prompt, the one
    `reward` (`rewards`) scores highest is chosen and the lowest rejected (with 2, the DPO paper's pairs; with more,
    clearer ones). Pairs it scores alike are left out."""
    if candidates < 2:
        raise ValueError(f"a pair needs at least 2 candidates, got {candidates}")
    group = [prompt for prompt in prompts for _ in range(candidates)]
    print(f"DPO's pairs: {candidates} continuations of each of {len(prompts):,} openings by the reference model",
          flush=True)
    samples = sample_responses(reference, group, new_tokens, seed=seed)
    scores = reward(samples).reshape(-1, candidates)
    first = np.arange(len(prompts)) * candidates
    best, worst = first + scores.argmax(axis=1), first + scores.argmin(axis=1)
    margins = scores.max(axis=1) - scores.min(axis=1)
    differ = margins > 0
    rows = {"chosen": best[differ], "rejected": worst[differ]}
    pairs = {"margin": margins[differ].astype(np.float32)}
    for side in SIDES:
        chosen = samples.select(rows[side])
        pairs[side] = chosen.sequences()
        pairs[f"{side}_mask"] = chosen.response_mask()
        pairs[f"reference_{side}"] = log_probabilities(reference, chosen).astype(np.float32)
    return pairs


def save_pairs(pairs, path):
    with files.atomic_path(path) as temporary:
        with open(temporary, "wb") as handle:
            np.savez(handle, **pairs)


def load_pairs(path):
    with np.load(path) as stored:
        return {name: stored[name] for name in stored.files}


def preference_labels(pairs, labels):
    """Each pair's probability that its chosen response is preferred, DPO's label: 1 for every pair (`hard`, the
    DPO paper's), or the reward's own Bradley–Terry probability σ(r_chosen − r_rejected) (`reward`).

    With hard labels the loss keeps falling as the policy's preference for the chosen grows without bound, so
    how far the policy moves is set by how long it trains, whatever β. With the reward's probabilities DPO's
    optimum is β · (log-ratio of the chosen − of the rejected) = r_chosen − r_rejected: the policy
    π_ref · exp(r / β) that KL-regularized reinforcement learning aims at, and β says how far from π_ref it is."""
    if labels not in DPO_LABELS:
        raise ValueError(f"labels must be one of {DPO_LABELS}, got {labels!r}")
    if labels == "hard":
        return np.ones_like(pairs["margin"], dtype=np.float32)
    return (1 / (1 + np.exp(-pairs["margin"].astype(np.float64)))).astype(np.float32)


def pair_split(count, validation_fraction=0.1):
    """`(training, held out)` numbers of `count` pairs, as `pair_datasets` splits them."""
    held_out = max(1, round(validation_fraction * count))
    return count - held_out, held_out


def pair_datasets(pairs, batch_size, *, labels="hard", validation_fraction=0.1, seed=0):
    """`(train, validation)` `tf.data` datasets of `(dpo_trainer inputs, label)` (`preference_labels`): a seeded
    random `validation_fraction` of the pairs held out."""
    count = len(pairs["margin"])
    order = np.random.default_rng(seed).permutation(count)
    held_out = pair_split(count, validation_fraction)[1]
    targets = preference_labels(pairs, labels)

    def dataset(rows, training):
        inputs = {name: values[rows] for name, values in pairs.items() if name != "margin"}
        data = tf.data.Dataset.from_tensor_slices((inputs, targets[rows]))
        data = data.shuffle(len(rows), seed=seed) if training else data
        return data.batch(batch_size, drop_remainder=training)

    return dataset(order[held_out:], True), dataset(order[:held_out], False)
