"""Detect an article's language (ISO 639-1) with py3langid, whose model ships inside the wheel.

The detector is asked to choose only among the languages of the text's script: Arabic-script
text among Arabic, Persian (Dari), Pashto and Urdu; Cyrillic among the Cyrillic languages;
anything else among the two-letter languages of the model. Letters that only one language
writes then settle the confusions short texts invite: Persian read as Pashto without a single
Pashto letter, short Russian read as Serbian, Bulgarian or Ukrainian without their letters.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

MIN_LETTERS = 8  # fewer letters than this: too short to tell
SAMPLE_CHARS = 4000  # the detector reads at most this much of an article
FEED_SAMPLE_CHARS = 1000  # and this much of a feed's own text (a summary, or a full body)

ARABIC_SCRIPT = ("ar", "fa", "ps", "ur")
CYRILLIC = ("ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "tg", "mn", "tt", "ba")
_ALIASES = {"ary": "ar", "arz": "ar"}

# Letters written by one language of a script and not by the others it is confused with.
_OWN_LETTERS = {
    "ps": "ټډړږښځڅګڼېۍ",
    "ur": "ٹڈڑںےۓہ",
    "uk": "іїєґ",
    "be": "ўі",
    "sr": "ђјљњћџ",
    "mk": "ѓќѕјљњџ",
    "kk": "әғқңөұүһі",
    "ky": "ңөү",
    "tg": "ғӣқӯҳҷ",
    "mn": "өү",
    "tt": "әөүҗңһ",
    "ba": "әөүғҡҙҫһң",
}
_RUSSIAN_ONLY = "ыэё"  # Russian letters Bulgarian lacks
_SHORT = 300  # characters; below this one letter of a language outweighs the model

_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LETTER = re.compile(r"[^\W\d_]")


def detect_language(text: str, *, limit: int = SAMPLE_CHARS) -> str:
    """The ISO 639-1 code of the language of the text's first `limit` characters, or ""
    when it is empty or too short to tell."""
    sample = text[:limit]
    letters = len(_LETTER.findall(sample))
    if letters < MIN_LETTERS:
        return ""
    script = _script(sample, letters)
    code = _identifier(script).classify(sample)[0]
    code = _ALIASES.get(code, code)
    return _correct(code, sample.lower(), script)


def _script(sample: str, letters: int) -> str:
    if len(_ARABIC.findall(sample)) * 2 > letters:
        return "arabic"
    if len(_CYRILLIC.findall(sample)) * 2 > letters:
        return "cyrillic"
    return "other"


def warm_up() -> None:
    """Load the models now (≈ 90 MB, 0.45 s) rather than on the first detection."""
    for script in ("arabic", "cyrillic", "other"):
        _identifier(script)


def models_loaded() -> bool:
    """Whether this process has loaded the model (≈ 90 MB): only the extraction pool's
    forkserver should have, and a process detecting languages itself."""
    return _base_identifier.cache_info().currsize > 0


@cache
def _base_identifier() -> LanguageIdentifier:
    # py3langid (and numpy with it) is imported on first use, not with this module.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)


@cache
def _identifier(script: str) -> LanguageIdentifier:
    base = _base_identifier()
    identifier = copy.copy(base)
    if script == "arabic":
        identifier.set_languages([*ARABIC_SCRIPT, *_ALIASES])
    elif script == "cyrillic":
        identifier.set_languages(CYRILLIC)
    else:
        others = set(ARABIC_SCRIPT) | set(CYRILLIC)
        identifier.set_languages([c for c in base.labels if len(c) == 2 and c not in others])
    return identifier


def _correct(code: str, sample: str, script: str) -> str:
    """Undo a choice the text's letters contradict."""
    if script == "arabic":
        return _correct_arabic(code, sample)
    if script == "cyrillic" and code != "ru":
        if code == "bg":
            return "ru" if _has(sample, _RUSSIAN_ONLY) else code
        return code if _has(sample, _OWN_LETTERS.get(code, "")) else "ru"
    return code


def _correct_arabic(code: str, sample: str) -> str:
    pashto = _has(sample, _OWN_LETTERS["ps"])
    urdu = _has(sample, _OWN_LETTERS["ur"])
    if code == "ps" and not pashto:
        return "fa"  # Dari and Persian without a single Pashto letter
    if code == "ur" and not urdu:
        return "fa"
    if code in ("fa", "ar") and len(sample) < _SHORT:  # long texts: trust the model
        return "ur" if urdu else "ps" if pashto else code
    return code


def _has(sample: str, letters: str) -> bool:
    return any(c in sample for c in letters)
