"""The topic model of search: a logistic regression over the topics and an outside class.

Each phrasing of a topic (title, examples, keywords, the names of its glossary terms) is a
training sample of its topic; search.yaml's `outside_examples` (school life with no child at
risk, small talk) are samples of the class OUTSIDE. A sample's features are two TF-IDF blocks
(scikit-learn `TfidfVectorizer`, sublinear term frequency, each block L2-normalised): its
stemmed words and word pairs (knowledge.text.Reader.read), and the character 3–5-grams of its
folded words (which catch typos, missing å/ä/ö and parts of compounds), the second block
weighted by `char_weight`. scikit-learn's `LogisticRegression` learns from them; a question's
class probabilities come from `predict_proba`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from knowledge.text import Reader

OUTSIDE = ""  # the class of questions outside the bot's field


class _WordsAndPairs:
    """The word analyser of the model (a class, so that the trained model can be pickled)."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    def __call__(self, text: str) -> list[str]:
        ws = self.reader.read(text)
        return ws + [f"{a} {b}" for a, b in zip(ws, ws[1:], strict=False)]


class TopicModel:
    """Class probabilities for a question (see the module docstring)."""

    def __init__(self, reader: Reader, c: float, char_weight: float) -> None:
        self.reader = reader
        self._char_weight = char_weight
        self._words = TfidfVectorizer(analyzer=_WordsAndPairs(reader), sublinear_tf=True)
        self._chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, preprocessor=reader.plain
        )
        self._model = LogisticRegression(C=c, max_iter=3000)
        self.classes: list[str] = []

    @classmethod
    def train(
        cls,
        reader: Reader,
        samples: Sequence[tuple[str, str]],
        c: float,
        char_weight: float,
        outside_share: float = 6.0,
    ) -> TopicModel:
        """Learn from (class, text) samples. The samples of OUTSIDE together weigh as much as
        `outside_share` topics with the mean number of samples, however many there are: the
        balance between the field and the outside class does not depend on the size of the
        knowledge base."""
        model = cls(reader, c, char_weight)
        texts = [text for _c, text in samples]
        x = sparse.hstack(
            [model._words.fit_transform(texts), char_weight * model._chars.fit_transform(texts)]
        ).tocsr()
        labels = [label for label, _t in samples]
        n_out = labels.count(OUTSIDE)
        n_topics = len(set(labels) - {OUTSIDE})
        per_topic = (len(labels) - n_out) / max(1, n_topics)
        w_out = outside_share * per_topic / n_out if n_out else 1.0
        weights = [w_out if label == OUTSIDE else 1.0 for label in labels]
        model._model.fit(x, labels, sample_weight=weights)
        model.classes = [str(c) for c in model._model.classes_]
        model._prepare()
        return model

    def _prepare(self) -> None:
        """What the one-question path (`probabilities_of`) reads: per block its analyser,
        vocabulary and IDF, and the weights as one row per feature."""
        self._blocks = [
            (v.build_analyzer(), v.vocabulary_, v.idf_, offset, weight)
            for v, offset, weight in (
                (self._words, 0, 1.0),
                (self._chars, len(self._words.vocabulary_), self._char_weight),
            )
        ]
        self._rows = np.ascontiguousarray(self._model.coef_.T)
        self._intercept = self._model.intercept_.copy()

    def features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return sparse.hstack(
            [self._words.transform(texts), self._char_weight * self._chars.transform(texts)]
        ).tocsr()

    def probabilities(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """One row per text: the probability of every class (in the order of `classes`)."""
        out: npt.NDArray[np.float64] = self._model.predict_proba(self.features(texts))
        return out

    def probabilities_of(self, text: str) -> npt.NDArray[np.float64]:
        """`probabilities([text])[0]`, computed directly: the same TF-IDF (sublinear term
        frequency, L2 per block) and softmax, without scikit-learn's per-call overhead (a
        question takes ~0.2 ms instead of ~3 ms; tests/knowledge/test_search.py checks that
        both agree)."""
        ids: list[int] = []
        vals: list[float] = []
        for analyse, vocab, idf, offset, weight in self._blocks:
            counts: dict[int, int] = {}
            for term in analyse(text):
                j = vocab.get(term)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            js = np.fromiter(counts, dtype=np.int64, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            v = tf * idf[js]
            ids.extend((js + offset).tolist())
            vals.extend((weight * v / np.linalg.norm(v)).tolist())
        z = self._intercept + (np.asarray(vals) @ self._rows[ids] if ids else 0.0)
        e = np.exp(z - z.max())
        out: npt.NDArray[np.float64] = e / e.sum()
        return out

    def feature_count(self) -> int:
        return len(self._words.vocabulary_) + len(self._chars.vocabulary_)
