"""The models of the situations detector (knowledge.situations): logistic regressions over
TF-IDF of character 2–5-grams (within words) and word 1–2-grams of the folded text.

scikit-learn trains them (`LinearModels.train`, a fraction of a second, plus a second to import
scikit-learn and SciPy). The trained models keep only what scoring needs — each block's
vocabulary and IDF, the weights and intercepts — and score a message with the same arithmetic
(`probabilities`), so that models loaded from the cache (`load_or_train`: an .npz file named by a
hash of the training messages, this code and the library versions) need neither library: a server
starts without importing them. tests/knowledge/test_situation_cache.py checks that loaded models
give exactly the numbers of freshly trained ones, and that both are scikit-learn's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from common import text as common_text
from common.text import char_wb_grams, fold
from knowledge.model_cache import mark_used, versions, write_atomically

log = logging.getLogger(__name__)

FORMAT = 1  # of the cache file; raise it when what is stored changes
CHAR_NGRAMS = (2, 5)
_LIBRARIES = ("numpy", "scipy", "scikit-learn")
_WORD = re.compile(r"(?u)\b\w+\b")


def char_grams(text: str) -> list[str]:
    """scikit-learn's `char_wb` 2–5-grams of the folded text."""
    return char_wb_grams(fold(text), *CHAR_NGRAMS)


def word_grams(text: str) -> list[str]:
    """scikit-learn's `word` 1–2-grams of the folded text (token pattern `\\b\\w+\\b`)."""
    ws = _WORD.findall(fold(text))
    return ws + [f"{a} {b}" for a, b in pairwise(ws)]


# The feature blocks, in the order of their columns; each is L2-normalised on its own.
ANALYSERS: tuple[Callable[[str], list[str]], ...] = (char_grams, word_grams)
MIN_DF = (2, 1)  # a character n-gram must occur in two messages to be a feature


class LinearModels:
    """Logistic regressions (one per label) over the same TF-IDF features."""

    def __init__(
        self,
        vocabularies: Sequence[dict[str, int]],
        idf: Sequence[npt.NDArray[np.float64]],
        coef: npt.NDArray[np.float64],
        intercept: npt.NDArray[np.float64],
    ) -> None:
        self.vocabularies = list(vocabularies)
        self.idf = [np.asarray(i, dtype=np.float64) for i in idf]
        self.coef = np.asarray(coef, dtype=np.float64)  # rows: models, columns: features
        self.intercept = np.asarray(intercept, dtype=np.float64)
        # per block: the analyser and gram → (column, idf) as plain Python numbers
        self._blocks: list[tuple[Callable[[str], list[str]], dict[str, tuple[int, float]]]] = []
        offset = 0
        for analyse, vocab, block_idf in zip(ANALYSERS, self.vocabularies, self.idf, strict=True):
            weights = block_idf.tolist()
            columns = {g: (j + offset, weights[j]) for g, j in vocab.items()}
            self._blocks.append((analyse, columns))
            offset += len(vocab)
        self._coef = [row.tolist() for row in self.coef]
        self._intercept = self.intercept.tolist()
        self.learners: list[Any] = []  # scikit-learn's models after training here (for tests)
        self.vectorizers: list[Any] = []

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[Sequence[bool]]) -> LinearModels:
        """One model per sequence of labels, on the same features."""
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vectorizers = [
            TfidfVectorizer(analyzer=a, sublinear_tf=True, min_df=m, lowercase=False)
            for a, m in zip(ANALYSERS, MIN_DF, strict=True)
        ]
        features = hstack([v.fit_transform(list(texts)) for v in vectorizers]).tocsr()
        learners = [
            # liblinear's dual solver: far more features than messages; it fits in milliseconds.
            # It visits the messages in a random order: a fixed seed makes training repeatable
            # (without one, two trainings differed by up to 1e-5 in probability).
            LogisticRegression(
                C=10.0,
                class_weight="balanced",
                solver="liblinear",
                dual=True,
                max_iter=5000,
                random_state=0,
            ).fit(features, np.array(y, dtype=bool))
            for y in labels
        ]
        models = cls(
            [{str(g): int(j) for g, j in v.vocabulary_.items()} for v in vectorizers],
            [v.idf_ for v in vectorizers],
            np.vstack([m.coef_[0] for m in learners]),
            np.array([m.intercept_[0] for m in learners]),
        )
        models.learners, models.vectorizers = learners, vectorizers
        return models

    def probabilities(self, text: str) -> list[float]:
        """P(label) of each model for one message: sublinear tf × idf, L2-normalised per block,
        the dot product with each model's weights, the logistic function."""
        scores = list(self._intercept)
        for analyse, columns in self._blocks:
            weights: list[tuple[int, float]] = []
            norm = 0.0
            for gram, tf in Counter(analyse(text)).items():
                hit = columns.get(gram)
                if hit is None:
                    continue
                w = (1.0 + math.log(tf)) * hit[1]
                weights.append((hit[0], w))
                norm += w * w
            if norm == 0.0:
                continue
            norm = math.sqrt(norm)
            for k, coef in enumerate(self._coef):
                scores[k] += sum(coef[i] * w for i, w in weights) / norm
        return [1.0 / (1.0 + math.exp(-z)) for z in scores]

    def reference(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """The same probabilities through scikit-learn (rows: texts, columns: models); only for
        models trained in this process."""
        if not self.learners:
            raise ValueError("models loaded from a file have no scikit-learn models")
        from scipy.sparse import hstack

        features = hstack([v.transform(list(texts)) for v in self.vectorizers]).tocsr()
        out: npt.NDArray[np.float64] = np.column_stack(
            [m.predict_proba(features)[:, 1] for m in self.learners]
        )
        return out

    # --- the cache file ----------------------------------------------------------------------

    def save(self, fh: IO[bytes], key: str) -> None:
        """The models as an .npz (no pickle); ValueError when a vocabulary would not survive."""
        arrays: dict[str, Any] = {
            "format": np.array(FORMAT),
            "key": np.array(key),
            "coef": self.coef,
            "intercept": self.intercept,
        }
        for b, (vocab, idf) in enumerate(zip(self.vocabularies, self.idf, strict=True)):
            terms = sorted(vocab, key=vocab.__getitem__)
            stored = np.array(terms, dtype=str)
            # numpy drops trailing NULs of its strings; the column of a term is its position
            if stored.tolist() != terms or [vocab[t] for t in terms] != list(range(len(terms))):
                raise ValueError("a vocabulary cannot be stored")
            arrays[f"vocabulary{b}"] = stored
            arrays[f"idf{b}"] = idf
        np.savez(fh, **arrays)

    @classmethod
    def load(cls, path: Path, key: str) -> LinearModels:
        """Models saved with `key`; ValueError (or an error of numpy or the zip reader) when
        the file is not such a file."""
        with np.load(path, allow_pickle=False) as data:
            if int(data["format"]) != FORMAT or str(data["key"]) != key:
                raise ValueError("another format or key")
            vocabularies, idf = [], []
            for b in range(len(ANALYSERS)):
                terms = data[f"vocabulary{b}"].tolist()
                vocabularies.append(dict(zip(terms, range(len(terms)), strict=True)))
                idf.append(data[f"idf{b}"])
            coef, intercept = data["coef"], data["intercept"]
        if coef.shape != (len(intercept), sum(map(len, vocabularies))):
            raise ValueError("weights do not fit the vocabularies")
        return cls(vocabularies, idf, coef, intercept)


def cache_key(texts: Sequence[str], labels: Sequence[Sequence[bool]]) -> str:
    """SHA-256 of everything trained models depend on: the training messages and labels, this
    module and the folding of text (common/text.py), and the versions of Python and the
    libraries."""
    digest = hashlib.sha256()
    for part in (f"format {FORMAT}", sys.version, *versions(_LIBRARIES)):
        digest.update(part.encode())
        digest.update(b"\0")
    for path in (Path(__file__), Path(common_text.__file__)):
        digest.update(path.read_bytes())
    data = json.dumps([list(texts), [list(map(bool, y)) for y in labels]], ensure_ascii=False)
    digest.update(data.encode())
    return digest.hexdigest()


def load_or_train(
    texts: Sequence[str], labels: Sequence[Sequence[bool]], cache_dir: Path | None
) -> LinearModels:
    """The models of these messages: from `cache_dir` when they were trained before from exactly
    the same messages, code and library versions; otherwise trained and stored there (a damaged
    file is trained again and replaced). No cache_dir: trained."""
    if cache_dir is None:
        return LinearModels.train(texts, labels)
    key = cache_key(texts, labels)
    path = Path(cache_dir) / f"situations-{key[:32]}.npz"
    try:
        models = LinearModels.load(path, key)
        mark_used(path)
        return models
    except FileNotFoundError:
        pass
    except Exception as exc:  # a damaged or foreign file: train again and replace it
        log.warning("situations model cache unreadable (%s); training", type(exc).__name__)
    models = LinearModels.train(texts, labels)
    try:
        write_atomically(path, lambda fh: models.save(fh, key))
    except (OSError, ValueError) as exc:
        log.warning("situations model not cached: %s", type(exc).__name__)
    return models
