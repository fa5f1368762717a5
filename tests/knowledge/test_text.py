"""How search reads text (knowledge.text): folding, lexicon phrases, stems, English."""

from __future__ import annotations

import pickle

from knowledge.text import Reader, is_english, words


def test_words_are_folded() -> None:
    assert words("Vad betyder BUS?") == ["vad", "betyder", "bus"]
    assert words("Vårdnadshavare") == words("vardnadshavare") == words("VÅRDNADSHAVARE")
    assert words("  ?! ") == []


def test_phrases_add_what_they_stand_for_on_whole_words_only() -> None:
    reader = Reader([("soc", ["socialtjänsten"]), ("säga till", ["informera"])])
    assert reader.expand("ringa soc") == ["ringa", "soc", "socialtjansten"]
    assert reader.expand("Ringa SOC!") == ["ringa", "soc", "socialtjansten"]
    # "social" contains "soc" but is another word
    assert reader.expand("social") == ["social"]
    # a phrase of two words, not its words apart
    assert reader.expand("ska jag säga till") == ["ska", "jag", "saga", "till", "informera"]
    assert reader.expand("säga något till") == ["saga", "nagot", "till"]


def test_inflections_share_a_stem() -> None:
    reader = Reader()
    assert reader.read("anmälningarna")[0] == reader.read("anmalning")[0]
    assert reader.read("vårdnadshavarna")[0] == reader.read("vårdnadshavare")[0]


def test_a_reader_survives_pickling() -> None:
    reader = Reader([("soc", ["socialtjänsten"])])
    again = pickle.loads(pickle.dumps(reader))
    assert again.read("ringa soc") == reader.read("ringa soc")


def test_english_is_recognised_by_its_common_words() -> None:
    en = frozenset(["can", "i", "the", "to", "do", "we", "need"])
    sv = frozenset(["kan", "jag", "att", "vi"])
    assert is_english("can I report anonymously", en, sv)
    assert is_english("do we need consent from the parents", en, sv)
    assert not is_english("kan jag anmäla anonymt", en, sv)
    assert not is_english("anonymously", en, sv)  # one word is not enough
