"""Policies measured as the DPO paper measures them (its §6.1): on held-out prompts, the reward their samples
earn against how far they moved from the reference model, KL(π‖π_ref).

Prompts are the first 2 to 8 subwords of reviews a policy never trained on (test reviews), after the line
break that starts a review. A policy continues each one by `new_tokens` subwords, sampled at temperature 1
(plain random sampling: the distribution the KL is about); a response ends at its first `[NL]` (the review is
over), and what follows it is masked out. Each sample gets:

- the **reward** the policies were tuned against (`rewards`: the learned reward model's, or a classifier's), and
- the **judge's** P(positive): a sentiment classifier of this suite that no tuning step saw (an IMDB task
  export, not the reward's), so that a policy that fools the reward is caught (reward hacking shows as the two parting);
- the sequence log-probabilities under the policy and the reference, whose difference, averaged over samples,
  estimates KL(π‖π_ref) (`objectives.sequence_kl`).

Best-of-N takes, of N samples of the reference model, the one the reward scores highest; its KL to the
reference is log N − (N − 1)/N (Stiennon et al. 2020, appendix G), not estimated.
"""

import math
from dataclasses import dataclass

import keras_hub
import numpy as np
import tensorflow as tf

from keras_apps import progress
from keras_apps.inference.text_generation import TextGenerator, reseed
from keras_apps.preference.rewards import judged
from keras_apps.text.wordpieces import NEWLINE_ID, PAD_ID

PROMPT_LENGTHS = (2, 8)  # subwords of a review's opening, as the DPO paper's IMDb prefixes
FIGURES = ("reward", "judge", "kl")  # a point's measures; its other fields name the method and its settings


@dataclass(frozen=True)
class Samples:
    """Prompts and their responses, one row each: `[NL]` and the prompt in `prompts` (rows of one length share a
    batch), the response's tokens in `responses` (`[rows, new_tokens]`, `PAD_ID` after its end)."""

    prompts: list
    responses: np.ndarray

    def _shape(self):
        return len(self.prompts), max(len(prompt) for prompt in self.prompts) + self.responses.shape[1]

    def sequences(self):
        """`[NL]`, prompt and response of each row, padded at the end to one length with `PAD_ID`."""
        rows = np.full(self._shape(), PAD_ID, np.int32)
        for row, (prompt, response) in enumerate(zip(self.prompts, self.responses)):
            rows[row, : len(prompt) + len(response)] = np.concatenate([prompt, response])
        return rows

    def response_mask(self):
        """1 at each row's response tokens in `sequences()`, 0 at its prompt and padding."""
        mask = np.zeros(self._shape(), np.float32)
        for row, prompt in enumerate(self.prompts):
            mask[row, len(prompt): len(prompt) + self.responses.shape[1]] = self.responses[row] != PAD_ID
        return mask

    def select(self, rows):
        return Samples([self.prompts[row] for row in rows], self.responses[rows])


def review_prompts(tokenizer, texts, *, seed=0):
    """For each text, `[NL]` and its first k subwords, k drawn uniformly from `PROMPT_LENGTHS`."""
    rng = np.random.default_rng(seed)
    ids = tokenizer.tokenize(tf.constant(list(texts)))
    low, high = PROMPT_LENGTHS
    return [np.concatenate([[NEWLINE_ID], row[: rng.integers(low, high + 1)]]).astype(np.int32)
            for row in ids.numpy()]


class ResponseSampler:
    """Continues prompts with a `build_gpt` model at temperature 1 (plain random sampling), `batch_size` rows at
    a time, each response cut at its first `[NL]`.

    Made once and called again (as PPO does after every update), it compiles its decoding function once: prompts
    of one length decode together, and a last, short batch of them is filled up with copies so that every call
    has the same shape.
    """

    def __init__(self, model, batch_size=64):
        self.sampler = keras_hub.samplers.RandomSampler()
        self.generator = TextGenerator(model, self.sampler)
        self.batch_size = batch_size

    def __call__(self, prompts, new_tokens, *, seed=0, shown=False):
        """`Samples`: one response of `new_tokens` for each of `prompts`; with `shown`, a progress bar of them."""
        responses = np.zeros((len(prompts), new_tokens), np.int32)
        bar = progress.bar(len(prompts), "response") if shown else None
        for length in sorted({len(prompt) for prompt in prompts}):
            rows = [row for row, prompt in enumerate(prompts) if len(prompt) == length]
            for start in range(0, len(rows), self.batch_size):
                batch = rows[start: start + self.batch_size]
                filled = batch + batch[-1:] * (self.batch_size - len(batch))
                reseed(self.sampler, seed + 7919 * length + start)
                generated = self.generator.generate_batch(np.stack([prompts[row] for row in filled]), new_tokens)
                responses[batch] = generated.numpy()[: len(batch)]
                if bar:
                    bar.add(len(batch))
        return Samples(list(prompts), ended_at_line_break(responses))


def sample_responses(model, prompts, new_tokens, *, seed=0, batch_size=64):
    """`Samples` of `model`: one response of `new_tokens` for each prompt (`ResponseSampler`, used once), with
    a progress bar: thousands of responses take minutes."""
    return ResponseSampler(model, batch_size)(prompts, new_tokens, seed=seed, shown=True)


def ended_at_line_break(responses):
    """`responses` with every token after each row's first `[NL]` (the review is over) replaced by `PAD_ID`."""
    after = np.cumsum(np.cumsum(responses == NEWLINE_ID, axis=1), axis=1) > 1
    return np.where(after, PAD_ID, responses)


def log_probabilities(model, samples, batch_size=128):
    """log π(response | prompt) of each sample under `model` (a `build_gpt` model)."""
    from keras_apps.preference.models import ResponseLogProbability

    sequences, mask = samples.sequences(), samples.response_mask()
    score = ResponseLogProbability()
    return np.concatenate([score(model(sequences[start: start + batch_size]), sequences[start: start + batch_size],
                                 mask[start: start + batch_size]).numpy()
                           for start in range(0, len(sequences), batch_size)])


def best_of(scores, group, count):
    """Of each prompt's `group` consecutive samples, the index of the highest-scoring among its first `count`."""
    groups = np.asarray(scores).reshape(-1, group)[:, :count]
    return np.arange(len(groups)) * group + groups.argmax(axis=1)


def best_of_n_kl(count):
    """KL(best-of-N ‖ reference) in nats: log N − (N − 1)/N."""
    return math.log(count) - (count - 1) / count


def point(method, *, reward, judge, kl, **settings):
    """One point of the reward–KL frontier: a method's mean reward and judge's P(positive), and its KL."""
    return {"method": method, **settings, "reward": float(np.mean(reward)), "judge": float(np.mean(judge)),
            "kl": float(kl)}


def kl_estimate(policy_log_probs, reference_log_probs):
    """KL(π‖π_ref) in nats from responses sampled from π: the mean of log π(y|x) − log π_ref(y|x)
    (`objectives.sequence_kl`, on log-probabilities already summed over each response)."""
    return float(np.mean(np.asarray(policy_log_probs) - np.asarray(reference_log_probs)))


def frontier(reference, reward, judge, tokenizer, prompts, *, new_tokens, best_of_counts, policies=(), seed=0,
             shown=3):
    """`(points, examples)`: the frontier's point of the reference model, of best-of-N of its samples for each of
    `best_of_counts`, and of each of `policies` (`(export, method, settings, model)`), all on `prompts`; and the
    first `shown` prompts as each of them continued them (`(name, text)`).

    A policy's point records its export version, and its examples are named by it: two runs of one method and
    settings (another seed) are told apart by it alone."""
    group = max(best_of_counts)
    print(f"Sampling {group} continuations of {len(prompts):,} prompts from the reference model", flush=True)
    samples = sample_responses(reference, [prompt for prompt in prompts for _ in range(group)], new_tokens, seed=seed)
    scores, judgments = reward(samples), judged(judge, tokenizer, samples)
    first = np.arange(len(prompts)) * group
    points = [point("SFT", reward=scores[first], judge=judgments[first], kl=0.0)]
    picked = [("SFT", samples.select(first))]
    for count in best_of_counts:
        rows = best_of(scores, group, count)
        points.append(point("best-of-N", n=count, reward=scores[rows], judge=judgments[rows], kl=best_of_n_kl(count)))
        picked.append((f"best-of-{count}", samples.select(rows)))
    for export, method, settings, model in policies:
        print(f"Sampling {len(prompts):,} continuations from the {method} policy {export}", flush=True)
        own = sample_responses(model, prompts, new_tokens, seed=seed)
        kl = kl_estimate(log_probabilities(model, own), log_probabilities(reference, own))
        points.append(point(method, export=str(export), **settings, reward=reward(own),
                            judge=judged(judge, tokenizer, own), kl=kl))
        picked.append((f"{method} {export}", own))
    examples = [(name, text.decode("utf-8").strip()) for name, chosen in picked
                for text in tokenizer.detokenize(chosen.select(range(min(shown, len(prompts)))).sequences()).numpy()]
    return points, examples
