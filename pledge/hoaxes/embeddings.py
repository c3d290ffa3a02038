"""Claims compared by a sentence-embedding model an operator provides: an ONNX export
(`model.onnx` and `tokenizer.json`, with an optional `pledge.json`) run on the CPU with
onnxruntime, in place of the character n-grams.

It prepares the same `Prepared` (`textmatch.claim_features`): the stored text, the short-text
rule and the guard stay as they are; the unit embedding of the normalised text is the vector,
and random hyperplanes (SimHash) give the bands of the lookup index. onnxruntime, tokenizers
and numpy (the `embeddings` extra) are imported only when a matcher is made, so the site runs
without them. How to export a model and measure its thresholds: docs/matching-text.md."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pledge.hoaxes.textmatch import Prepared, claim_features, cosine, guarded

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
SETTINGS_FILE = "pledge.json"  # optional: {"suggest": 0.85, "join": 0.93, "prefix": "query: "}
REQUIRED_FILES = (MODEL_FILE, TOKENIZER_FILE)
REQUIRED_MODULES = ("onnxruntime", "tokenizers", "numpy")

# Not measured: embedding cosines sit high (unrelated Indonesian sentences score 0.7 to 0.8
# with e5), so these are a cautious guess. Measure a model's own with bench/text_matching.py
# on the fixture set and write them in its pledge.json before relying on it.
SUGGEST = 0.85
JOIN = 0.93
MAX_TOKENS = 256  # a claim is short; a long OCR text is cut, which bounds the cost per text
BANDS = 16
BITS = 8  # per band: two texts at a cosine of 0.9 share one of 16 with probability 0.996
SEED = 20_240_214  # the hyperplanes: changing it changes every stored band
CACHED = 4096  # embeddings kept per process: stored candidates are prepared on every report


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """What `pledge.json` in the model directory says, or the defaults."""

    suggest: float = SUGGEST
    join: float = JOIN
    prefix: str = ""  # e5 models expect "query: " before a text to compare
    max_tokens: int = MAX_TOKENS

    @classmethod
    def read(cls, model_dir: Path) -> ModelSettings:
        """The settings of this model; ValueError saying what is wrong with its pledge.json."""
        path = model_dir / SETTINGS_FILE
        if not path.is_file():
            return cls()
        expected = f"{path} must be a JSON object such as " + (
            '{"suggest": 0.85, "join": 0.93, "prefix": "query: "}, with 0 < suggest <= join <= 1'
        )
        try:
            given = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(given, dict) or set(given) - {*cls.__dataclass_fields__}:
                raise ValueError(expected)
            settings = cls(
                suggest=float(given.get("suggest", SUGGEST)),
                join=float(given.get("join", JOIN)),
                prefix=given.get("prefix", ""),
                max_tokens=int(given.get("max_tokens", MAX_TOKENS)),
            )
        except (OSError, TypeError, ValueError):
            raise ValueError(expected) from None
        if (
            not 0 < settings.suggest <= settings.join <= 1
            or not isinstance(settings.prefix, str)
            or settings.max_tokens < 8
        ):
            raise ValueError(expected)
        return settings


def model_dir_problem(model_dir: Path) -> str | None:
    """What keeps this directory from being used as a text model, or None: read at start-up,
    so that a wrong setting stops the site rather than its first report."""
    if not model_dir.is_dir():
        return f"{model_dir} is not a directory"
    missing = [name for name in REQUIRED_FILES if not (model_dir / name).is_file()]
    if missing:
        return f"{model_dir} lacks {' and '.join(missing)}"
    absent = [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]
    if absent:
        return f"{', '.join(absent)} not installed: install pledge[embeddings]"
    try:
        ModelSettings.read(model_dir)
    except ValueError as error:
        return str(error)
    return None


def _signed64(data: str) -> int:
    return int.from_bytes(hashlib.blake2b(data.encode(), digest_size=8).digest(), signed=True)


class EmbeddingMatcher:
    """Cosine of the unit sentence embeddings (mean pooled over the attention mask, or the
    model's `sentence_embedding` output), guarded; SimHash bands for the index."""

    def __init__(self, model_dir: Path, *, bands: int = BANDS, bits: int = BITS) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        settings = ModelSettings.read(model_dir)
        self.suggest, self.join, self.prefix = settings.suggest, settings.join, settings.prefix
        self.band_count, self.bits = bands, bits
        self.name = f"embedding-{model_dir.resolve().name}-simhash-{bands}x{bits}"
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(model_dir / MODEL_FILE), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {given.name for given in self._session.get_inputs()}
        outputs = [found.name for found in self._session.get_outputs()]
        self._pooled = "sentence_embedding" in outputs
        self._output = "sentence_embedding" if self._pooled else outputs[0]
        self._tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(settings.max_tokens)
        self._planes: Any = None  # made at the first text, when the dimension is known
        self._embedding = lru_cache(maxsize=CACHED)(self._embed)

    def prepare(self, text: str) -> Prepared:
        features = claim_features(text)
        if features.too_short:
            return features
        return replace(features, vector=self._embedding(features.text))

    def score(self, a: Prepared, b: Prepared) -> float:
        return guarded(min(1.0, max(0.0, cosine(a.vector, b.vector))), a, b, join=self.join)

    def bands(self, prepared: Prepared) -> list[tuple[int, int]]:
        import numpy as np

        if prepared.too_short or not prepared.vector:
            return []
        vector = np.array([prepared.vector[str(i)] for i in range(len(prepared.vector))])
        if self._planes is None or self._planes.shape[1] != len(vector):
            generator = np.random.default_rng(SEED)
            self._planes = generator.standard_normal((self.band_count * self.bits, len(vector)))
        signs = (self._planes @ vector > 0).reshape(self.band_count, self.bits)
        return [
            (band, _signed64(f"{self.name}:{band}:{bits.tobytes().hex()}"))
            for band, bits in enumerate(signs.astype(np.uint8))
        ]

    def _embed(self, normal: str) -> MappingProxyType[str, float]:
        """The unit embedding of a normalised text, as `Prepared.vector` holds it."""
        import numpy as np

        encoding = self._tokenizer.encode(self.prefix + normal)
        ids = np.array([encoding.ids], dtype=np.int64)
        mask = np.array([encoding.attention_mask], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        output = self._session.run([self._output], {k: feeds[k] for k in self._inputs})[0]
        if self._pooled:
            embedding = np.asarray(output[0], dtype=np.float64)
        else:
            weights = mask[0].astype(np.float64)[:, None]
            hidden = np.asarray(output[0], dtype=np.float64)
            embedding = (hidden * weights).sum(axis=0) / max(weights.sum(), 1.0)
        norm = math.sqrt(float(embedding @ embedding)) or 1.0
        return MappingProxyType({str(i): float(x) / norm for i, x in enumerate(embedding)})
