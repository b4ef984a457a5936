"""Preference tuning of a GPT (the RLHF chapter): a reward model learned from human ratings, PPO against it,
DPO on preferred pairs, and the measures that compare them (reward against KL to the reference model)."""
