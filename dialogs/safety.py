"""A safety net under search: words that may mean a child is in acute danger.

Whatever search makes of a message ("hon säger att hon inte vill leva längre" may match no topic
well), a message with such words first gets the 112 card. A false alarm costs one extra card; a
missed one could cost far more. The phrases live in the message catalogue (`words.acute`).
"""

from __future__ import annotations

from collections.abc import Iterable

from dialogs.text import fold_known, fold_plain


class AcuteDetector:
    def __init__(self, phrases: Iterable[str]) -> None:
        # Folded, padded with spaces so that phrases match whole words (or word beginnings when
        # the phrase ends with '*': "självmord*" matches "självmordstankar").
        self._phrases: list[tuple[str, bool]] = []
        for p in phrases:
            prefix = p.endswith("*")
            folded = fold_known(p.rstrip("*"))
            if folded:
                self._phrases.append((folded, prefix))

    def __call__(self, text: str) -> bool:
        padded = f" {fold_plain(text)} "
        for phrase, prefix in self._phrases:
            needle = f" {phrase}" if prefix else f" {phrase} "
            if needle in padded:
                return True
        return False
