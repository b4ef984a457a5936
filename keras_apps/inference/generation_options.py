"""What a request for generated text may choose: the sampler, and at most how many new tokens. Light to import:
a task's command line offers them (`keras_apps.inference.text_generation` runs them)."""

SAMPLERS = ("greedy", "top_k", "top_p", "random")
MAX_NEW_TOKENS = 10_000  # per call; a bound on the work one request can ask of a served model
