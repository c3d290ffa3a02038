"""Claims compared by a sentence-embedding model, on a tiny model made here: a word-level
tokenizer over a few Indonesian words and an ONNX graph whose "hidden state" is each word's
row of a fixed table, the words of one claim close together."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from pydantic import ValidationError
from tokenizers import Tokenizer, models, pre_tokenizers

from pledge.campaigns.models import CampaignView
from pledge.hoaxes import textmatch
from pledge.hoaxes.embeddings import EmbeddingMatcher
from pledge.hoaxes.service import matching
from tests.support.factories import MakeCampaign, MakeReport
from tests.support.settings import UseSettings

DIM = 16
BALLOT = textmatch.words("pemilih tidak membawa bawa undangan c 6 bisa mencoblos tps besok tetap")
BURNT = textmatch.words("kotak suara kecamatan dibakar massa tadi malam hasil pemilu dibatalkan")
NEUTRAL = textmatch.words("query : yang di sebarkan info grup sebelah")

CLAIM = "Pemilih yang tidak membawa undangan C6 tidak bisa mencoblos di TPS besok, sebarkan!"
REWORDED = "info grup sebelah: pemilih yg gak bawa undangan C6 gak bisa nyoblos di TPS besok"
NEGATED = "Pemilih yang tidak membawa undangan C6 tetap bisa mencoblos di TPS besok"
OTHER = "Kotak suara di kecamatan dibakar massa tadi malam, hasil pemilu dibatalkan"


def _table(vocabulary: list[str]) -> np.ndarray:
    """One row per token: a claim's words near its own axis, filler words short and apart,
    the unknown token nothing."""
    noise = np.random.default_rng(7).normal(scale=0.1, size=(len(vocabulary), DIM))
    rows = np.zeros((len(vocabulary), DIM), dtype=np.float32)
    for index, word in enumerate(vocabulary):
        axis = 0 if word in BALLOT else 1 if word in BURNT else 2
        if word != "[UNK]":
            rows[index] = noise[index]
            rows[index, axis] += 1.0 if axis < 2 else 0.3
    return rows


def build_model(directory: Path, settings: dict[str, object] | None = None) -> Path:
    """model.onnx and tokenizer.json (and pledge.json when given) in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    vocabulary = ["[UNK]", *sorted(BALLOT), *sorted(BURNT), *sorted(NEUTRAL)]
    tokenizer = Tokenizer(
        models.WordLevel({word: i for i, word in enumerate(vocabulary)}, unk_token="[UNK]")
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(directory / "tokenizer.json"))
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])
    hidden = helper.make_tensor_value_info(
        "last_hidden_state", TensorProto.FLOAT, ["batch", "seq", DIM]
    )
    table = _table(vocabulary)
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["words"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["weights"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["weights", "last_axis"], ["weights_3d"]),
        helper.make_node("Mul", ["words", "weights_3d"], ["last_hidden_state"]),
    ]
    initializers = [
        helper.make_tensor("table", TensorProto.FLOAT, table.shape, table.flatten().tolist()),
        helper.make_tensor("last_axis", TensorProto.INT64, [1], [-1]),
    ]
    graph = helper.make_graph(nodes, "tiny", [ids, mask], [hidden], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(directory / "model.onnx"))
    if settings is not None:
        (directory / "pledge.json").write_text(json.dumps(settings))
    return directory


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = {"suggest": 0.8, "join": 0.9, "prefix": "query: "}
    return build_model(tmp_path_factory.mktemp("tiny-e5"), settings)


@pytest.fixture(scope="module")
def matcher(model_dir: Path) -> EmbeddingMatcher:
    return EmbeddingMatcher(model_dir)


@pytest.fixture(autouse=True)
def fresh_matcher() -> Iterator[None]:
    matching.matcher.cache_clear()
    yield
    matching.matcher.cache_clear()


def test_identical_texts_score_one_and_share_every_band(matcher: EmbeddingMatcher) -> None:
    one, two = matcher.prepare(CLAIM), matcher.prepare(CLAIM.upper())
    assert one.text == textmatch.claim_features(CLAIM).text
    assert len(one.vector) == DIM
    assert matcher.score(one, two) == pytest.approx(1.0)
    bands = matcher.bands(one)
    assert len(bands) == 16 and bands == matcher.bands(two)
    assert all(-(2**63) <= value < 2**63 for _band, value in bands)


def test_a_reworded_claim_scores_above_another_claim(matcher: EmbeddingMatcher) -> None:
    claim, reworded, other = (matcher.prepare(t) for t in (CLAIM, REWORDED, OTHER))
    same = matcher.score(claim, reworded)
    assert same >= matcher.join > matcher.score(claim, other)
    assert matcher.score(claim, other) < matcher.suggest
    shared = set(matcher.bands(claim)) & set(matcher.bands(reworded))
    assert shared and not set(matcher.bands(claim)) & set(matcher.bands(other))


def test_the_negation_guard_keeps_a_negated_claim_below_join(matcher: EmbeddingMatcher) -> None:
    claim, negated = matcher.prepare(CLAIM), matcher.prepare(NEGATED)
    assert textmatch.cosine(claim.vector, negated.vector) >= matcher.join
    assert matcher.suggest <= matcher.score(claim, negated) < matcher.join


def test_short_texts_score_zero_and_have_no_bands(matcher: EmbeddingMatcher) -> None:
    short = matcher.prepare("hoaks ini")
    assert short.too_short and matcher.bands(short) == []
    assert matcher.score(short, matcher.prepare(CLAIM)) == 0.0


def test_thresholds_and_prefix_come_from_pledge_json(
    matcher: EmbeddingMatcher, tmp_path: Path
) -> None:
    assert (matcher.suggest, matcher.join, matcher.prefix) == (0.8, 0.9, "query: ")
    plain = EmbeddingMatcher(build_model(tmp_path / "plain"))
    assert plain.prefix == "" and plain.suggest < plain.join < 1
    # The prefix is embedded with the text: the same text reads a little differently.
    with_prefix = matcher.prepare(CLAIM).vector
    assert textmatch.cosine(with_prefix, plain.prepare(CLAIM).vector) < 1 - 1e-6
    broken = build_model(tmp_path / "broken", {"suggest": 0.95, "join": 0.9})
    with pytest.raises(ValueError, match="suggest <= join"):
        EmbeddingMatcher(broken)


def test_settings_refuse_a_directory_without_the_model(
    use_settings: UseSettings, tmp_path: Path
) -> None:
    build_model(tmp_path / "half")
    (tmp_path / "half" / "model.onnx").unlink()
    with pytest.raises(ValidationError, match=r"PLEDGE_TEXT_MODEL_DIR: .* lacks model\.onnx"):
        use_settings(text_model_dir=str(tmp_path / "half"))
    with pytest.raises(ValidationError, match="is not a directory"):
        use_settings(text_model_dir=str(tmp_path / "nowhere"))
    assert use_settings(text_model_dir="").text_model_dir is None


def test_a_reworded_report_joins_the_first_ones_case_by_its_embedding(
    use_settings: UseSettings,
    model_dir: Path,
    make_campaign: MakeCampaign,
    make_report: MakeReport,
) -> None:
    use_settings(text_model_dir=str(model_dir))
    assert isinstance(matching.matcher(), EmbeddingMatcher)
    view: CampaignView = make_campaign(status="live")
    first = make_report(view, url="https://example.id/berita/1", description=CLAIM)
    again = make_report(view, url="https://example.id/berita/2", description=REWORDED)
    other = make_report(view, url="https://example.id/berita/3", description=NEGATED)
    assert again.case_id == first.case_id and again.joined_by.startswith("text ")
    assert other.case_id != first.case_id and other.joined_by == ""
