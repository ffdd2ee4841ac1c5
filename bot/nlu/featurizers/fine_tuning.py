"""Fine-tuning the sentence encoder on the intents it must tell apart.

The objective is a cosine-softmax classifier over the intents (normalised embeddings
against normalised class weights, times a fixed scale): it pulls each intent's
sentences together on the unit sphere, which is where the classifier and the
out-of-scope decision after it look. The token embedding table stays frozen (it is
half the weights, and words the data never shows should keep their meaning). Batches
group sentences of similar length, so little time goes to padding.
"""

from __future__ import annotations

import math
import random
import warnings
from typing import Any

from bot.nlu.component import ProgressCallback
from bot.nlu.featurizers.encoder import batch_tensors

SCALE = 30.0
HEAD_LEARNING_RATE_FACTOR = 40
WARMUP_SHARE = 0.1


def length_buckets(texts: list[str], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of indices, each drawn from a window of similar-length texts."""
    order = list(range(len(texts)))
    rng.shuffle(order)
    window = batch_size * 50
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda i: len(texts[i]))
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def fine_tune(encoder: Any, tokenizer: Any, texts: list[str], labels: list[str], *, epochs: float,
              max_steps: int, learning_rate: float, batch_size: int, seed: int,
              progress: ProgressCallback | None = None) -> None:
    """Updates `encoder` (a pooled encoder module) in place, for `epochs` passes over
    the data but at most `max_steps` batches, which bounds the time on large data."""
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    classes = sorted(set(labels))
    targets = [classes.index(label) for label in labels]
    head = torch.nn.Linear(encoder.inner.config.hidden_size, len(classes), bias=False)
    for parameter in encoder.inner.embeddings.parameters():
        parameter.requires_grad = False
    trainable = [p for p in encoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW([{"params": trainable, "lr": learning_rate},
                                   {"params": head.parameters(), "lr": learning_rate * HEAD_LEARNING_RATE_FACTOR}],
                                  weight_decay=0.01)
    steps_per_epoch = math.ceil(len(texts) / batch_size)
    total = max(1, min(max_steps, round(steps_per_epoch * epochs)))
    warmup = max(1, round(total * WARMUP_SHARE))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (total - step) / total))
    with warnings.catch_warnings():
        # transformers warns about its own deprecated names when a model switches to training
        warnings.simplefilter("ignore", FutureWarning)
        encoder.train()
    step = 0
    while step < total:
        for batch in length_buckets(texts, batch_size, rng):
            if step >= total:
                break
            ids, mask = batch_tensors(tokenizer, [texts[i] for i in batch])
            embeddings = encoder(ids, mask)
            logits = SCALE * embeddings @ torch.nn.functional.normalize(head.weight, dim=-1).T
            loss = torch.nn.functional.cross_entropy(logits, torch.tensor([targets[i] for i in batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            if progress is not None:
                progress("fine-tuning the sentence encoder", step, total)
    encoder.eval()
    for parameter in encoder.parameters():
        parameter.requires_grad = False
