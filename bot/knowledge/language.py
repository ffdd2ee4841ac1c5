"""Whether a question is in another language than the course's (English).

Asked only when the bot would otherwise decline or say it did not understand, so that
"qu'est-ce que l'apprentissage automatique ?" gets "please ask in English" rather than
"the course doesn't cover that". wordfreq (the NLU extra's word lists) scores the words
in each of a few common languages; another language wins only by a clear margin. Where
wordfreq is not installed (the Lex Lambda), nothing is flagged.
"""

from __future__ import annotations

from functools import lru_cache

COURSE_LANGUAGE = "en"
CANDIDATES = ("fr", "de", "es", "it", "pt", "nl")
RATIO = 1.3   # the other language's word-frequency score must be this much higher...
MARGIN = 4.0  # ...and by this many Zipf points in all, so a loanword decides nothing
MIN_WORDS = 2


def other_language(text: str) -> str | None:
    """The language code `text` is written in when it is clearly not English, else None."""
    try:
        from wordfreq import tokenize
    except ImportError:
        return None
    if len(tokenize(text, COURSE_LANGUAGE)) < MIN_WORDS:
        return None
    scores = {language: _score(text, language) for language in (COURSE_LANGUAGE, *CANDIDATES)}
    best = max(CANDIDATES, key=lambda language: scores[language])
    english = scores[COURSE_LANGUAGE]
    return best if scores[best] >= RATIO * english and scores[best] - english >= MARGIN else None


@lru_cache(maxsize=256)
def _score(text: str, language: str) -> float:
    """How common the text's words are in `language`: the sum of their Zipf frequencies."""
    from wordfreq import tokenize, zipf_frequency

    return sum(zipf_frequency(word, language) for word in tokenize(text, language))
