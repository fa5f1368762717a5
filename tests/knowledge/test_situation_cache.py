"""The situations detector's models cached by their training messages
(knowledge/situation_model.py): a start with an unchanged training file loads them instead of
importing scikit-learn and training, and gets exactly the numbers a fresh training gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from common.text import fold
from knowledge import situation_model
from knowledge.loader import DEFAULT_DIR
from knowledge.situation_model import LinearModels, char_grams, word_grams
from knowledge.situations import TRAINING_FILE, SituationDetector, load_files

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = DEFAULT_DIR / "questions"
ODD = [
    "",
    "  ",
    "??",
    "a\tb\n\n c",
    "x" * 900,
    "Ärligt\u00a0talat  ÅÄÖ é ü",
    "hon-sa 'pappa' slår!! 112",
    "I'm worried about one of my students",
    "ab",
]


def _messages() -> list[str]:
    """The training messages, the concern sets, search's held-out and tuning questions and
    some odd text: well over a thousand messages, most never trained on."""
    _settings, training = load_files()
    texts = [m.text for m in training]
    for path in sorted((ROOT / "benchmarks" / "concern-2026-12").glob("set_*.yaml")):
        texts += [m["text"] for m in yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]]
    for path in (ROOT / "benchmarks" / "heldout.yaml", QUESTIONS / "tuning.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts += [q["q"] for q in data["questions"]]
    return texts + ODD


@pytest.fixture(scope="module")
def messages() -> list[str]:
    return _messages()


@pytest.fixture(scope="module")
def fresh() -> SituationDetector:
    return SituationDetector.build()


def test_the_analysers_are_scikit_learns(messages: list[str]) -> None:
    """The detector's own n-grams are those of scikit-learn's `char_wb` and `word` analysers
    with the folding preprocessor (what the detector was trained on before it had its own):
    same grams, same order."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), preprocessor=fold)
    word = TfidfVectorizer(
        analyzer="word", ngram_range=(1, 2), preprocessor=fold, token_pattern=r"(?u)\b\w+\b"
    )
    char_ref, word_ref = chars.build_analyzer(), word.build_analyzer()
    for text in messages:
        assert char_grams(text) == char_ref(text), text
        assert word_grams(text) == word_ref(text), text


def test_fresh_trainings_are_identical(fresh: SituationDetector, messages: list[str]) -> None:
    """Training is repeatable (liblinear's order of messages has a fixed seed), so a cached
    model can equal a fresh one exactly."""
    again = SituationDetector.build()
    sample = messages[::7]
    assert [again.models.probabilities(t) for t in sample] == [
        fresh.models.probabilities(t) for t in sample
    ]


def test_cached_models_give_exactly_the_numbers_of_a_fresh_training(
    tmp_path: Path,
    fresh: SituationDetector,
    messages: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = tmp_path / "cache"
    first = SituationDetector.load_or_build(None, cache)  # trained and stored
    assert len(list(cache.glob("situations-*.npz"))) == 1
    assert not [p for p in cache.iterdir() if p.suffix == ".tmp"]  # no temporary file left

    def no_training(*_args: object) -> LinearModels:
        raise AssertionError("trained although the cache was valid")

    monkeypatch.setattr(LinearModels, "train", no_training)
    loaded = SituationDetector.load_or_build(None, cache)
    assert loaded.models is not first.models and not loaded.models.learners
    for text in messages:
        assert loaded.models.probabilities(text) == fresh.models.probabilities(text), text
        assert loaded(text) == fresh(text), text
    with pytest.raises(ValueError):
        loaded.models.reference(["x"])  # no scikit-learn models behind a loaded file


def test_loaded_numbers_are_scikit_learns(tmp_path: Path, messages: list[str]) -> None:
    SituationDetector.load_or_build(None, tmp_path)
    loaded = SituationDetector.load_or_build(None, tmp_path)
    _settings, training = load_files()
    labels = [[m.concern for m in training], [m.acute for m in training]]
    trained = LinearModels.train([m.text for m in training], labels)
    import numpy as np

    ours = np.array([loaded.models.probabilities(t) for t in messages])
    assert np.allclose(ours, trained.reference(messages), rtol=0, atol=1e-9)


def test_a_changed_training_file_is_trained_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another message (or another label) gives another file; a comment does not change the
    messages and keeps the cached models; a damaged file is trained again and replaced."""
    trainings: list[int] = []
    train = LinearModels.train

    def counted(texts: list[str], labels: list[list[bool]]) -> LinearModels:
        trainings.append(len(texts))
        return train(texts, labels)

    monkeypatch.setattr(LinearModels, "train", counted)
    cache = tmp_path / "cache"
    kb = tmp_path / "kb"
    shutil.copytree(DEFAULT_DIR, kb)
    training = kb / TRAINING_FILE
    before = SituationDetector.load_or_build(kb, cache)
    assert len(trainings) == 1

    training.write_text(training.read_text(encoding="utf-8") + "\n# a comment\n", "utf-8")
    SituationDetector.load_or_build(kb, cache)
    assert len(trainings) == 1 and len(list(cache.glob("situations-*.npz"))) == 1

    text = "Eleven berättar att storebror låser in henne i källaren"
    training.write_text(
        training.read_text(encoding="utf-8")
        + f"  - {{text: '{text}', concern: true, acute: true}}\n",
        encoding="utf-8",
    )
    after = SituationDetector.load_or_build(kb, cache)
    assert trainings == [trainings[0], trainings[0] + 1]
    assert len(list(cache.glob("situations-*.npz"))) == 2
    assert after.models.probabilities(text) != before.models.probabilities(text)
    assert SituationDetector.load_or_build(kb, cache).models.probabilities(text) == (
        after.models.probabilities(text)
    )
    assert len(trainings) == 2  # loaded

    for path in cache.glob("situations-*.npz"):
        path.write_bytes(b"not an npz file")
    again = SituationDetector.load_or_build(kb, cache)
    assert len(trainings) == 3
    assert again.models.probabilities(text) == after.models.probabilities(text)
    assert SituationDetector.load_or_build(kb, cache) is not None and len(trainings) == 3


def test_the_key_covers_labels_code_and_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    key = situation_model.cache_key(["a", "b"], [[True, False]])
    assert situation_model.cache_key(["a", "b"], [[False, True]]) != key
    assert situation_model.cache_key(["a", "c"], [[True, False]]) != key
    monkeypatch.setattr(situation_model, "versions", lambda names: ["scikit-learn 0.0"])
    assert situation_model.cache_key(["a", "b"], [[True, False]]) != key


def test_no_cache_folder_trains(tmp_path: Path) -> None:
    detector = SituationDetector.load_or_build(None, None)
    assert detector.models.learners  # trained here
    unwritable = tmp_path / "file"
    unwritable.write_text("not a folder", encoding="utf-8")
    assert SituationDetector.load_or_build(None, unwritable / "cache").models.learners
