"""What a request for generated text may choose: the sampler, and at most how many new tokens. Light to import:
a task's command line offers them (`keras_apps.inference.text_generation` runs them)."""

SAMPLERS = ("greedy", "top_k", "top_p", "random")
MAX_NEW_TOKENS = 10_000  # per call; a bound on the work one request can ask of a served model


def generate_inputs(reviews=False):
    """What the `generate` signature takes, and does with what it is given (`serving.text_generation_endpoint`; a
    GPT of the review corpus with `reviews`): its export's `inputs`, so that a client of the SavedModel knows what
    the command line would have refused."""
    read = ("read as a review's opening, cleaned as the reviews were, its completion ending with the review; "
            if reviews else "")
    return (f"prompt: string [] (invalid UTF-8 replaced; {read}the model reads its last context_length tokens; an "
            f"empty one starts from a line break); max_new_tokens: int32 [] (taken into 0 to {MAX_NEW_TOKENS:,}); "
            "temperature: float32 [] (positive and finite, at least 0.001); seed: int32 []")
