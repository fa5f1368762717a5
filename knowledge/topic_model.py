"""The learned topic model of search: a linear classifier over the topics (and the class of
questions outside the field), trained on the topics' phrasings every time the index is built."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from knowledge.text import Analyzer, Concept
from knowledge.tuning import Tuning

# The topic model's class for questions outside the field (search.yaml `outside_examples`).
OUTSIDE = ""


class TopicModel:
    """A linear classifier over the topics, learned when the index is built.

    Each phrasing of a topic (title, examples, keywords, the names of its glossary terms) is a
    training sample; its features are TF-IDF weights of its terms (stems, compound parts and
    synonym groups, as the index sees them), of pairs of neighbouring terms, and of character
    n-grams (3–5 letters) of its folded words, the character block weighing `char_weight`
    against the word block (each block L2-normalised). A multi-class passive-aggressive
    learner (PA-II, averaged; mini-batches in a fixed order, so every build gives the same
    model) learns one weight vector per topic: which words and word parts tell this topic from
    the others, which the lexical ranking does not learn ("slutat komma", "vägrar gå" for
    absence). At query time its scores become probabilities with a softmax over the topics
    valid on the day.
    """

    def __init__(
        self,
        analyzer: Analyzer,
        classes: list[str],
        vocab: dict[str, int],
        idf: npt.NDArray[np.float64],
        char_weight: float,
    ) -> None:
        self._analyzer = analyzer
        self.classes = classes
        self.index = {c: i for i, c in enumerate(classes)}
        self.outside = self.index.get(OUTSIDE)  # the class of questions outside the field
        self._vocab = vocab
        self._idf = idf
        self._char_weight = char_weight
        self._weights: npt.NDArray[np.float64] = np.zeros((len(vocab), len(classes)))

    @classmethod
    def train(
        cls, analyzer: Analyzer, samples: list[tuple[str, str]], tuning: Tuning
    ) -> TopicModel:
        """Learn from (topic id, text) samples."""
        classes = sorted({c for c, _t in samples})
        class_of = {c: i for i, c in enumerate(classes)}
        blocks = [
            (_doc_word_features(analyzer, text), _char_features(analyzer, text))
            for _c, text in samples
        ]
        df: Counter[str] = Counter()
        for wf, cf in blocks:
            df.update(wf.keys())
            df.update(cf.keys())
        vocab = {key: i for i, key in enumerate(sorted(df))}
        n = len(samples)
        idf = np.log((1 + n) / (1 + np.array([df[k] for k in sorted(df)], dtype=np.float64)))
        model = cls(analyzer, classes, vocab, idf + 1.0, tuning.model_char_weight)
        ids, vals, ptr = model._vectors(blocks)
        ys = np.array([class_of[c] for c, _t in samples], dtype=np.int64)
        model._weights = _train_pa(ids, vals, ptr, ys, len(vocab), len(classes), tuning)
        return model

    def _vectors(
        self, blocks: list[tuple[dict[str, float], dict[str, float]]]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Samples as rows of a sparse matrix (feature ids, values, row pointers): sublinear
        TF-IDF, each block of a sample L2-normalised; features the model lacks dropped."""
        keys: list[str] = []
        tfs: list[float] = []
        segs: list[int] = []  # 2 × sample + block
        for s, (wf, cf) in enumerate(blocks):
            for b, block in enumerate((wf, cf)):
                keys.extend(block.keys())
                tfs.extend(block.values())
                segs.extend([2 * s + b] * len(block))
        vocab = self._vocab
        found = np.array([vocab.get(k, -1) for k in keys], dtype=np.int64)
        known = found >= 0
        ids = found[known]
        tf = np.array(tfs, dtype=np.float64)[known]
        seg = np.array(segs, dtype=np.int64)[known]
        counts = np.bincount(seg // 2, minlength=len(blocks))
        # Sublinear term frequency; a weaker alternative (a compound part, < 1) counts as itself.
        vals = np.where(tf >= 1.0, 1.0 + np.log(np.maximum(tf, 1.0)), tf) * self._idf[ids]
        norms = np.sqrt(np.bincount(seg, weights=vals * vals, minlength=2 * len(blocks)))
        scale = np.where(seg % 2 == 0, 1.0, self._char_weight)
        vals = vals * scale / np.maximum(norms[seg], 1e-12)
        ptr = np.zeros(len(blocks) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum(counts)
        return ids, vals, ptr

    def scores(self, question: str, concepts: list[Concept]) -> npt.NDArray[np.float64]:
        """The raw score of every class for a question (0 for all if nothing is known)."""
        ids, vals, _ptr = self._vectors(
            [
                (
                    _query_word_features(self._analyzer, question, concepts),
                    _char_features(self._analyzer, question),
                )
            ]
        )
        if not len(ids):
            return np.zeros(len(self.classes))
        out: npt.NDArray[np.float64] = vals @ self._weights[ids]
        return out


def _train_pa(
    ids: npt.NDArray[np.int64],
    vals: npt.NDArray[np.float64],
    ptr: npt.NDArray[np.int64],
    ys: npt.NDArray[np.int64],
    n_features: int,
    n_classes: int,
    tuning: Tuning,
) -> npt.NDArray[np.float64]:
    """Averaged multi-class passive-aggressive learning (PA-II, Crammer et al. 2006) in
    mini-batches: each sample whose class does not beat the best other class by a margin of 1
    moves both weight vectors by the smallest step that would fix it (at most `model_c`); a
    run's result is the average of the weights over all its steps. The model is the mean of
    `model_runs` runs over different fixed orders of the samples: one order alone makes the
    model depend on where each sample happens to fall, so that adding a phrasing to one topic
    moved answers of unrelated questions."""

    def run_in(order: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """One averaged PA-II run over the samples in the given order."""
        w = np.zeros(n_features * n_classes)
        u = np.zeros(n_features * n_classes)  # step-weighted sum of the updates (for the average)
        w2 = w.reshape(n_features, n_classes)
        batches = []
        size = tuning.model_batch
        for b0 in range(0, len(order), size):
            rows = order[b0 : b0 + size]
            parts = [np.arange(ptr[r], ptr[r + 1]) for r in rows]
            at = np.concatenate(parts)
            starts = np.zeros(len(rows), dtype=np.int64)
            starts[1:] = np.cumsum([len(p) for p in parts])[:-1]
            row_of = np.repeat(np.arange(len(rows)), [len(p) for p in parts])
            v = vals[at]
            batches.append((ids[at], v, starts, row_of, ys[rows], np.add.reduceat(v * v, starts)))
        t = 1
        for _epoch in range(tuning.model_epochs):
            for f, v, starts, row_of, y, sq in batches:
                n = len(y)
                rows_n = np.arange(n)
                s = np.add.reduceat(w2[f] * v[:, None], starts, axis=0)
                s_y = s[rows_n, y].copy()
                s[rows_n, y] = -np.inf
                other = s.argmax(axis=1)
                loss = 1.0 - (s_y - s[rows_n, other])
                tau = np.minimum(tuning.model_c, np.maximum(loss, 0.0) / (2.0 * sq))
                if tau.any():
                    hit = tau[row_of] > 0
                    r = row_of[hit]
                    step = tau[r] * v[hit]
                    base = f[hit] * n_classes
                    at_ = np.concatenate([base + y[r], base + other[r]])
                    delta = np.concatenate([step, -step])
                    np.add.at(w, at_, delta)
                    np.add.at(u, at_, t * delta)
                t += 1
        result: npt.NDArray[np.float64] = (w - u / t).reshape(n_features, n_classes)
        return result

    lengths = np.diff(ptr)
    rows_kept = [i for i in range(len(ys)) if lengths[i] > 0]
    runs = max(1, tuning.model_runs)
    total = np.zeros((n_features, n_classes))
    for seed in range(runs):
        order_list = list(rows_kept)
        random.Random(seed).shuffle(order_list)  # fixed orders: the same model on every build
        total += run_in(np.array(order_list, dtype=np.int64))
    result: npt.NDArray[np.float64] = total / runs
    return result


def _doc_word_features(analyzer: Analyzer, text: str) -> dict[str, float]:
    out: defaultdict[str, float] = defaultdict(float)
    for term, weight in analyzer.index_terms(text):
        out["w" + term] += weight
    raw = analyzer.raw_terms(text)
    for a, b in pairwise(raw):
        out["b" + a + " " + b] += 1.0
    return out


def _query_word_features(
    analyzer: Analyzer, question: str, concepts: list[Concept]
) -> dict[str, float]:
    """A question's terms as the index would see them, plus what the lexicon adds (synonyms,
    expansions, corrections), each at the weight of its best alternative."""
    out: defaultdict[str, float] = defaultdict(float)
    for concept in concepts:
        best: dict[str, float] = {}
        for alt in concept.alternatives:
            for t in alt.terms:
                best[t] = max(best.get(t, 0.0), min(1.0, alt.weight))
        for t, weight in best.items():
            out["w" + t] += weight
    raw = analyzer.raw_terms(question)
    for a, b in pairwise(raw):
        out["b" + a + " " + b] += 1.0
    return out


def _char_features(analyzer: Analyzer, text: str) -> dict[str, float]:
    out: defaultdict[str, float] = defaultdict(float)
    for w in analyzer.content_words(text):
        f = "<" + analyzer.fold(w) + ">"
        for n in (3, 4, 5):
            for i in range(len(f) - n + 1):
                out["c" + f[i : i + n]] += 1.0
    return out
