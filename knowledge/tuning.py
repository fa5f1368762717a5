"""The weights and thresholds of search: how the ranking weighs its parts and where the decision
between answering, suggesting and declining falls (benchmarks vary them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tuning:
    """Weights and thresholds of the ranking and the decision (benchmarks may vary them)."""

    # Field weights of the topic text.
    title: float = 3.0
    examples: float = 2.0
    keywords: float = 2.5
    glossary: float = 1.5
    answer: float = 1.0
    details: float = 0.5
    changed: float = 0.3
    # BM25.
    k1: float = 1.2
    b: float = 0.5
    # Confidence = weighted sum of these parts (each in [0, 1]; the weights add up to ≤ 1).
    w_core: float = 0.05  # coverage by title, examples, keywords and glossary entries
    w_coverage: float = 0.05  # coverage by the whole topic text
    w_example: float = 0.05
    w_bm25: float = 0.30
    w_fuzzy: float = 0.10  # character-level likeness to the closest phrasing (content words)
    w_fuzzy_full: float = 0.30  # the same over all the words, question words included
    w_knn: float = 0.20  # mean likeness of the `knn` closest phrasings (title and examples)
    knn: int = 3
    # An unknown word weighs like a term found in this many topics; an unknown name ("Täby",
    # "Engelbrektsskolan") this much.
    unknown_df: float = 0.5
    name_weight: float = 1.5
    # How much an everyday school word (search.yaml `common`) counts towards coverage.
    common_credit: float = 0.3
    # What the user said is weighted by IDF over the topics' core fields (title, examples,
    # keywords, glossary): words that tell topics apart. A word found only in topic bodies
    # weighs its body IDF times this.
    core_idf: bool = True
    body_factor: float = 0.7
    # Query side: how much a compound's parts, an expansion and a typo correction count.
    part_weight: float = 0.6
    expansion_weight: float = 0.9
    correction_weight: float = 0.85
    # Decision, step 1: is the question in the bot's field at all? Domain evidence is a
    # logistic function of what the question is made of, its coefficients fitted on the tuning
    # question sets (benchmarks/): how much of it the best topic covers, the share of words the
    # index does not know, words of school life outside the field, the best confidence, and
    # the topic model's margin for the outside class over the best topic.
    field_bias: float = -1.6
    field_coverage: float = 1.7
    field_unknown: float = -1.2
    field_outside: float = -1.0
    field_score: float = 0.8
    field_margin: float = -2.85
    field_at: float = 0.4  # probability from which a question counts as in the field
    min_coverage: float = 0.2  # and the share of it the best topic must cover at least
    no_model_margin: float = -0.6  # the margin assumed where no topic model is trained
    # Step 2: the best topic answers, unless the question is content-free. A question whose
    # words together weigh less than `vague_weight` (or one word under `vague_single_weight`)
    # is vague: it is answered only with `vague_margin` to the next topic, else the closest
    # topics are offered ("Menade du…?"); with nothing distinctive at all it is never answered.
    vague_weight: float = 1.0
    vague_single_weight: float = 2.0
    vague_margin: float = 0.05
    # … except a question of at least `vague_clear_concepts` concepts whose best topic scores
    # `vague_clear_score` with that margin: low-weight words, but a clear winner.
    vague_clear_concepts: int = 2
    vague_clear_score: float = 0.5
    exact_phrasing: float = 0.9  # phrasing likeness that makes a question not vague
    suggest_at: float = 0.25  # a suggestion needs at least this confidence, else decline
    answer_at: float = 0.0  # an answer needs at least this confidence, else a suggestion
    sure_at: float = 0.45  # an answer below this confidence is tentative (see SearchResult)
    candidates: int = 25  # topics re-ranked with the example phrasings
    fuzzy_candidates: int = 10  # the best of them also compared character by character …
    fuzzy_phrasings: int = 12  # … with this many of their phrasings most like the question
    # The learned topic model (see TopicModel): its share of the confidence, the temperature
    # of its softmax, training (epochs, aggressiveness), the weight of character n-grams
    # against words, how many of its best topics join the pool, and the largest knowledge base
    # it is trained for (beyond, ranking is lexical only).
    w_model: float = 0.4
    model_temperature: float = 5.0
    model_epochs: int = 10
    model_c: float = 0.1
    model_batch: int = 16
    model_char_weight: float = 0.5
    model_pool: int = 3
    model_runs: int = 5
    model_max_topics: int = 500
