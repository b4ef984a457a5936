"""nanoGPT's best checkpoint scored on every token of the whole validation split, as our GPT is scored
(`keras_apps.data.token_windows.evaluation_windows`: consecutive non-overlapping windows of the context's
length, each token predicted once). Run by the PyTorch environment of `bench.nanogpt`, in the folder nanoGPT
trained in: `python nanogpt_loss.py WORKDIR`; prints `{"validation_loss": …}`."""

import json
import sys
from pathlib import Path

import numpy as np
import torch

workdir = Path(sys.argv[1])
sys.path.insert(0, str(workdir))
from model import GPT, GPTConfig  # noqa: E402  (nanoGPT's, from its checkout's copy in WORKDIR)

checkpoint = torch.load(workdir / "out-shakespeare-char" / "ckpt.pt", map_location="cpu")
model = GPT(GPTConfig(**checkpoint["model_args"]))
model.load_state_dict({key.removeprefix("_orig_mod."): value for key, value in checkpoint["model"].items()})
model.eval()
context = checkpoint["model_args"]["block_size"]
tokens = np.fromfile(workdir / "data" / "shakespeare_char" / "val.bin", dtype=np.uint16).astype(np.int64)
starts = np.arange((len(tokens) - 1) // context) * context
windows = torch.from_numpy(tokens[starts[:, None] + np.arange(context + 1)])
total = 0.0
with torch.no_grad():
    for batch in windows.split(64):
        _, loss = model(batch[:, :-1].contiguous(), batch[:, 1:].contiguous())  # nanoGPT's loss .view()s them
        total += loss.item() * batch[:, 1:].numel()
print(json.dumps({"validation_loss": total / (len(starts) * context)}))
