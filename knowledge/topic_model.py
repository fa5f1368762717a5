"""The topic model of search: a logistic regression over the topics and an outside class.

Each phrasing of a topic (title, examples, keywords, the names of its glossary terms) and each
staff question labelled with it (knowledge/data/questions/) is a training sample of its topic;
search.yaml's `outside_examples` (school life with no child at risk, small talk) and the
questions labelled null are samples of the class OUTSIDE. A sample's features are two TF-IDF blocks
(scikit-learn `TfidfVectorizer`, sublinear term frequency, each block L2-normalised): its
stemmed words and word pairs (knowledge.text.Reader.read), and the character 3–5-grams of its
folded words (`char_wb`: typos, missing å/ä/ö, parts of compounds), the second block weighted
by `char_weight`. scikit-learn's `LogisticRegression` learns from them.

Words the model has never seen count too, at query time: each unknown word or n-gram adds to
the length of the question's vector as if it were as rare as the rarest known one (times
`unknown_weight`), so the known part weighs less. A question mostly about something the
knowledge base never mentions ("Karensavdrag, hur räknas det?") is then decided by its few
known words with less confidence, instead of by them alone as if they were the whole question.

scikit-learn is used to train only. The trained model keeps what scoring needs — each block's
vocabulary and IDF, the weights and intercepts — and scores a question with the same
arithmetic (`probabilities_of`): a server that loads a cached model starts without importing
scikit-learn, and a question takes ~0.2 ms. tests/knowledge/test_search.py checks that the two
agree with scikit-learn's `predict_proba`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from common.text import char_wb_grams
from knowledge.text import Reader

OUTSIDE = ""  # the class of questions outside the bot's field
CHAR_NGRAMS = (3, 5)


class _WordsAndPairs:
    """The word analyser: stemmed words and pairs of neighbouring ones."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    def __call__(self, text: str) -> list[str]:
        ws = self.reader.read(text)
        return ws + [f"{a} {b}" for a, b in pairwise(ws)]


class _CharGrams:
    """The character analyser: scikit-learn's `char_wb` n-grams of `Reader.plain` (each word
    padded with a space on both sides; a word shorter than n gives itself once)."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    def __call__(self, text: str) -> list[str]:
        return char_wb_grams(self.reader.plain(text), *CHAR_NGRAMS)


class TopicModel:
    """Class probabilities for a question (see the module docstring)."""

    def __init__(self, reader: Reader, char_weight: float) -> None:
        self.reader = reader
        self.classes: list[str] = []
        analysers: list[Callable[[str], list[str]]] = [_WordsAndPairs(reader), _CharGrams(reader)]
        # per block: analyser, vocabulary, IDF, offset of its columns, weight
        self._blocks: list[tuple[Callable[[str], list[str]], dict[str, int], Any, int, float]] = [
            (a, {}, np.zeros(0), 0, w) for a, w in zip(analysers, (1.0, char_weight), strict=True)
        ]
        self._rows: npt.NDArray[np.float64] = np.zeros((0, 0))  # weights, one row per feature
        self._intercept: npt.NDArray[np.float64] = np.zeros(0)
        self.learner: Any = None  # scikit-learn's model after training (for tests; not pickled)

    @classmethod
    def train(
        cls,
        reader: Reader,
        samples: Sequence[tuple[str, str]],
        c: float,
        char_weight: float,
        outside_share: float,
    ) -> TopicModel:
        """Learn from (class, text) samples. Every topic weighs the same in all, however many
        phrasings it has (a new topic with 8 is not drowned by topics with 60), and the
        samples of OUTSIDE together weigh as much as `outside_share` topics: the balance does
        not depend on the size of the knowledge base."""
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        model = cls(reader, char_weight)
        texts = [text for _c, text in samples]
        blocks, vectorizers = [], []
        offset = 0
        for analyse, _v, _i, _o, weight in model._blocks:
            v = TfidfVectorizer(analyzer=analyse, sublinear_tf=True, lowercase=False)
            blocks.append(weight * v.fit_transform(texts))
            vectorizers.append((analyse, dict(v.vocabulary_), v.idf_.copy(), offset, weight))
            offset += len(v.vocabulary_)
        model._blocks = vectorizers
        labels = [label for label, _t in samples]
        counts = Counter(labels)
        n_out = counts.pop(OUTSIDE, 0)
        per_topic = sum(counts.values()) / max(1, len(counts))
        # every topic weighs the same in all, however many phrasings it has
        weights = [
            outside_share * per_topic / n_out if label == OUTSIDE else per_topic / counts[label]
            for label in labels
        ]
        learner = LogisticRegression(C=c, max_iter=3000)
        learner.fit(sparse.hstack(blocks).tocsr(), labels, sample_weight=weights)
        model.classes = [str(k) for k in learner.classes_]
        model._rows = np.ascontiguousarray(learner.coef_.T)
        model._intercept = learner.intercept_.copy()
        model.learner = learner
        return model

    def with_reader(self, reader: Reader) -> TopicModel:
        """This trained model reading questions with `reader` (a kommun's words added as
        expansions): the same vocabularies, IDF and weights, shared, not copied."""
        model = TopicModel(reader, 1.0)
        analysers: tuple[Callable[[str], list[str]], ...] = (
            _WordsAndPairs(reader),
            _CharGrams(reader),
        )
        model._blocks = [
            (analyse, vocab, idf, offset, weight)
            for analyse, (_a, vocab, idf, offset, weight) in zip(
                analysers, self._blocks, strict=True
            )
        ]
        model.classes, model._rows, model._intercept = self.classes, self._rows, self._intercept
        return model

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["learner"] = None
        return state

    def probabilities_of(self, text: str, unknown_weight: float = 0.0) -> npt.NDArray[np.float64]:
        """The probability of every class (in the order of `classes`) for one text: sublinear
        TF-IDF per block, L2-normalised and weighted, then the softmax of the linear scores.
        With `unknown_weight` > 0 the unknown terms count in the norm (module docstring); with
        0 this is exactly scikit-learn's arithmetic."""
        ids: list[int] = []
        vals: list[float] = []
        for analyse, vocab, idf, offset, weight in self._blocks:
            counts: dict[int, int] = {}
            unknown: dict[str, int] = {}
            for term in analyse(text):
                j = vocab.get(term)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
                elif unknown_weight > 0:
                    unknown[term] = unknown.get(term, 0) + 1
            if not counts:
                continue
            js = np.fromiter(counts, dtype=np.int64, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            v = tf * idf[js]
            norm2 = float(v @ v)
            if unknown_weight > 0 and unknown:
                u = 1.0 + np.log(np.fromiter(unknown.values(), dtype=np.float64))
                norm2 += float(u @ u) * (unknown_weight * float(idf.max())) ** 2
            ids.extend((js + offset).tolist())
            vals.extend((weight * v / np.sqrt(norm2)).tolist())
        z = self._intercept + (np.asarray(vals) @ self._rows[ids] if ids else 0.0)
        e = np.exp(z - z.max())
        out: npt.NDArray[np.float64] = e / e.sum()
        return out

    def probabilities(
        self, texts: Sequence[str], unknown_weight: float = 0.0
    ) -> npt.NDArray[np.float64]:
        """One row of `probabilities_of` per text."""
        if not texts:
            return np.zeros((0, len(self.classes)))
        return np.vstack([self.probabilities_of(t, unknown_weight) for t in texts])

    def feature_count(self) -> int:
        return sum(len(vocab) for _a, vocab, _i, _o, _w in self._blocks)
