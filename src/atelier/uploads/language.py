"""A guess at the language of an extracted text, from its most common short words.

Function words ("the", "und", "les") make up a large share of any running text and
differ between languages, so counting them tells the seven languages we expect apart
without a model: deterministic, no download, microseconds per document. A word that
several languages share ("de", "la", "a") counts for each of them, divided between them,
so only the words that discriminate carry weight. Short or mixed text gets None rather
than a coin toss.
"""

from __future__ import annotations

import re
from collections import Counter

_STOP_WORDS: dict[str, str] = {
    "en": (
        "the of and to in is that it for was on are with as be at by this have from or"
        " an but not they which you were has had their been would will there what can all"
        " we our its more when who about these than into them also should could"
    ),
    "fr": (
        "le la les des du un une et est que qui dans pour pas sur au aux ce cette sont"
        " avec ne se plus par il elle nous vous ils leur leurs mais ou été être fait comme"
        " son sa ses aussi très sans tout tous entre où lorsque l d qu j n"
    ),
    "de": (
        "der die das und ist nicht ein eine einen einem zu den von mit sich des auf für"
        " im dem auch es an als wird werden sind bei oder aus wie nach noch wir sie ich"
        " kann hat haben über nur durch dass diese dieser unsere"
    ),
    "es": (
        "el la los las de del y que en un una es por con para no se su sus al lo como"
        " más pero fue ha son está están entre también muy sin sobre este esta nuestro"
        " nuestra cuando donde hay ser"
    ),
    "it": (
        "il lo la gli le di del della dei delle e che un una è per con non sono da nel"
        " nella al alla si come anche più ma questo questa ha hanno essere stato tra"
        " molto senza sul sulla degli ci l dell"
    ),
    "pt": (
        "o a os as de do da dos das e que em um uma é para com não se por no na nos nas"
        " ao mais como mas foi são está também muito sem sobre este esta ser seu sua"
        " pelo pela entre quando onde há"
    ),
    "nl": (
        "de het een en van is dat die in op te voor met zijn niet aan er ook als bij"
        " door wordt worden maar om uit dan nog naar ze wij we hebben heeft kan deze"
        " dit onze over tot"
    ),
}

# Each word's weight per language: 1 / the number of languages that use it.
_WEIGHTS: dict[str, dict[str, float]] = {}
for _language, _words in _STOP_WORDS.items():
    for _word in set(_words.split()):
        _WEIGHTS.setdefault(_word, {})[_language] = 1.0
for _languages in _WEIGHTS.values():
    for _language in _languages:
        _languages[_language] = 1.0 / len(_languages)

# Below this many words a guess is noise (a title, a label, a number).
MIN_WORDS = 12
# The share of the text's words that must be the winner's function words, and how far
# ahead of the runner-up it must be: otherwise the text is a list, code, or mixed.
MIN_SHARE = 0.08
MIN_LEAD = 1.5
# Enough of a long document to decide; the rest would only cost time.
_SAMPLE_CHARS = 20_000

_WORD = re.compile(r"[^\W\d_]+")


def guess_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language among en, fr, de, es, it, pt, nl, or None."""
    words = _WORD.findall(text[:_SAMPLE_CHARS].lower())
    if len(words) < MIN_WORDS:
        return None
    scores: dict[str, float] = {}
    for word, count in Counter(words).items():
        for language, weight in _WEIGHTS.get(word, {}).items():
            scores[language] = scores.get(language, 0.0) + weight * count
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    if not ranked:
        return None
    best, best_score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if best_score < MIN_SHARE * len(words) or best_score < MIN_LEAD * runner_up:
        return None
    return best
