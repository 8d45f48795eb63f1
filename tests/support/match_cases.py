"""The table of matching cases: one watchlist, one text, which of its terms must hit.

Each case lists a watchlist's terms (plain strings, or dicts with `text` and `match_case`),
optionally actors and excludes, a text, and the terms expected to hit. An empty `hits` means
the watchlist must not match at all. `lang` and `script` describe the text, so the test can
show the table spans languages and scripts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ISIS_K_ACTOR = {
    "name": "ISIS-Khorasan",
    "aliases": ["ISIS-K", "ISKP", "IS-K", "IS-KP", "Islamic State Khorasan Province"],
}


@dataclass(frozen=True)
class Case:
    id: str
    lang: str
    script: str
    text: str
    terms: tuple[Any, ...] = ()
    hits: tuple[str, ...] = ()
    actors: tuple[dict[str, Any], ...] = ()
    exclude: tuple[Any, ...] = ()
    note: str = field(default="", compare=False)


def pos(id: str, lang: str, script: str, terms: Any, text: str, *hits: str, **kw: Any) -> Case:
    """A case that must match; `hits` defaults to every listed term."""
    terms = (terms,) if isinstance(terms, str | dict) else tuple(terms)
    default = tuple(t if isinstance(t, str) else t["text"] for t in terms)
    return Case(id, lang, script, text, terms, hits or default, **kw)


def neg(id: str, lang: str, script: str, terms: Any, text: str, **kw: Any) -> Case:
    """A case that must not match."""
    terms = (terms,) if isinstance(terms, str | dict) else tuple(terms)
    return Case(id, lang, script, text, terms, (), **kw)


def actor(id: str, lang: str, script: str, text: str, *hits: str, **kw: Any) -> Case:
    """A case against the ISIS-Khorasan actor; no `hits` means it must not match."""
    return Case(id, lang, script, text, (), hits, actors=(ISIS_K_ACTOR,), **kw)


EN, LAT = "en", "Latin"

WORD_BOUNDARIES = [
    pos("isis-plain", EN, LAT, "ISIS", "Fighters loyal to ISIS attacked the town."),
    neg("isis-in-crisis", EN, LAT, "ISIS", "The economic crisis deepened."),
    neg("isis-in-crisis-caps", EN, LAT, "ISIS", "THE CRISIS DEEPENED ACROSS THE REGION"),
    neg("isis-in-iskcon", EN, LAT, "ISIS", "ISKCON temples held a festival."),
    neg("isis-in-kiosk", EN, LAT, "ISIS", "A kiosk sold newspapers."),
    neg("isis-in-crises", EN, LAT, "ISIS", "Several crises overlapped."),
    neg("isis-person-name", EN, LAT, "ISIS", "Isis Johnson, a nurse from Ohio, said."),
    neg("isis-goddess", EN, LAT, "ISIS", "The temple of the goddess Isis at Philae."),
    neg("isis-lowercase", EN, LAT, "ISIS", "the isis river near oxford"),
    pos("isis-parens", EN, LAT, "ISIS", "the group (ISIS) claimed it"),
    pos("isis-comma", EN, LAT, "ISIS", "ISIS, al-Qaeda and others"),
    pos("isis-full-stop", EN, LAT, "ISIS", "They blamed ISIS."),
    pos("isis-curly-quotes", EN, LAT, "ISIS", "so-called “ISIS” fighters"),
    pos("isis-single-quotes", EN, LAT, "ISIS", "so-called ‘ISIS’ fighters"),
    pos("isis-hashtag", EN, LAT, "ISIS", "trending: #ISIS #Kabul"),
    pos("isis-slash", EN, LAT, "ISIS", "ISIS/Daesh remains active"),
    pos("isis-ellipsis", EN, LAT, "ISIS", "and then…ISIS…again"),
    pos("isis-start-of-text", EN, LAT, "ISIS", "ISIS"),
    pos("isis-newline-around", EN, LAT, "ISIS", "line one\nISIS\nline three"),
    neg("isis-digit-glued", EN, LAT, "ISIS", "ISIS2 is a codename"),
    neg("kabul-in-longer-word", EN, LAT, "Kabul", "Kabulistan is not a place"),
    neg("kabul-prefix", EN, LAT, "Kabul", "Mr Kabulov spoke"),
    neg("kabul-suffix-inside", EN, LAT, "Kabul", "the word preKabul is odd"),
    neg("taliban-in-longer", EN, LAT, "Taliban", "Talibanization of schools"),
    neg("state-inside-statehood", EN, LAT, "Islamic State", "Islamic Statehood debates"),
    neg("term-across-title-body", EN, LAT, "Islamic State", "Islamic\n\nState media"),
    pos("hyphenated-left", EN, LAT, "Kabul", "Kabul-based officials said"),
    pos("hyphenated-right", EN, LAT, "Kabul", "pro-Kabul officials said"),
]

DASH_AND_SPACE_VARIANTS = [
    actor("isisk-hyphen", EN, LAT, "claimed by ISIS-K today", "ISIS-K"),
    actor("isisk-en-dash", EN, LAT, "claimed by ISIS–K today", "ISIS-K"),
    actor("isisk-em-dash", EN, LAT, "claimed by ISIS—K today", "ISIS-K"),
    actor("isisk-hyphen-2010", EN, LAT, "claimed by ISIS\u2010K today", "ISIS-K"),
    actor("isisk-nb-hyphen", EN, LAT, "claimed by ISIS\u2011K today", "ISIS-K"),
    actor("isisk-figure-dash", EN, LAT, "claimed by ISIS\u2012K today", "ISIS-K"),
    actor("isisk-bar", EN, LAT, "claimed by ISIS\u2015K today", "ISIS-K"),
    actor("isisk-minus", EN, LAT, "claimed by ISIS\u2212K today", "ISIS-K"),
    actor("isisk-space", EN, LAT, "claimed by ISIS K today", "ISIS-K"),
    actor("isisk-two-spaces", EN, LAT, "claimed by ISIS  K today", "ISIS-K"),
    actor("isisk-nbsp", EN, LAT, "claimed by ISIS\u00a0K today", "ISIS-K"),
    actor("isisk-tab", EN, LAT, "claimed by ISIS\tK today", "ISIS-K"),
    actor("isisk-spaced-dash", EN, LAT, "claimed by ISIS – K today", "ISIS-K"),
    actor("isisk-line-wrap", EN, LAT, "claimed by ISIS\nK today", "ISIS-K"),
    actor("isisk-soft-hyphen", EN, LAT, "claimed by ISIS-\u00adK today", "ISIS-K"),
    actor(
        "isisk-joined-unlisted",
        EN,
        LAT,
        "claimed by ISISK today",
        "ISIS-K",
        note="rule 1: a dash of a term also matches nothing",
    ),
    pos("isisk-joined-listed", EN, LAT, ("ISIS-K", "ISISK"), "claimed by ISISK today", "ISISK"),
    actor("isisk-comma-between", EN, LAT, "blamed ISIS, K Street lobbyists"),
    actor("isisk-paragraph-between", EN, LAT, "the rise of ISIS\n\nK-pop fans gathered"),
    actor(
        "isisk-inside-khorasan-same-actor",
        EN,
        LAT,
        "ISIS-Khorasan claimed it",
        "ISIS-Khorasan",
        "ISIS-K",
        note="an alias inside a longer name of the same actor counts (overlaps kept)",
    ),
    actor(
        "isisk-and-khorasan-both",
        EN,
        LAT,
        "ISIS-K, also called ISIS-Khorasan, claimed it",
        "ISIS-K",
        "ISIS-Khorasan",
    ),
    actor("khorasan-alone", EN, LAT, "Khorasan is a historical region."),
    actor("khorasan-razavi", EN, LAT, "Floods hit Khorasan Razavi province in Iran."),
    actor("khorasan-province-lookalike", EN, LAT, "the Khorasan Province of Iran"),
    pos("phrase-dash-equals-space", EN, LAT, "suicide bombing", "a suicide-bombing in Kabul"),
    pos("phrase-line-break", EN, LAT, "suicide bombing", "a suicide\nbombing in Kabul"),
    neg("phrase-paragraph-break", EN, LAT, "suicide bombing", "prevent suicide\n\nBombing raids"),
    neg("phrase-comma-break", EN, LAT, "suicide bombing", "suicide, bombing and arson"),
    neg("phrase-other-word", EN, LAT, "suicide bombing", "a suicide bomber struck"),
    neg(
        "phrase-zero-width-space",
        EN,
        LAT,
        "suicide bombing",
        "suicide\u200bbombing",
        note="rule 3: a zero-width space is ignored, so the two words are one",
    ),
]

CASE_RULES = [
    actor("iskp-caps", EN, LAT, "ISKP claimed the attack", "ISKP"),
    actor("iskp-lower", EN, LAT, "iskp claimed the attack"),
    actor("iskp-title", EN, LAT, "Iskp claimed the attack"),
    actor("is-k-caps", EN, LAT, "IS-K claimed the attack", "IS-K"),
    actor("is-k-lower", EN, LAT, "is-k claimed the attack"),
    actor("is-kp-caps", EN, LAT, "IS-KP claimed the attack", "IS-KP", "IS-K"),
    actor("is-kp-wrong-case-holds-no-is-k", EN, LAT, "IS-Kp claimed the attack"),
    actor("isisk-any-case", EN, LAT, "Isis-k claimed the attack", "ISIS-K"),
    actor(
        "islamic-state-lower",
        EN,
        LAT,
        "islamic state khorasan province",
        "Islamic State Khorasan Province",
    ),
    pos("override-iskp-insensitive", EN, LAT, {"text": "ISKP", "match_case": False}, "Iskp said"),
    neg(
        "override-taliban-sensitive",
        EN,
        LAT,
        {"text": "Taliban", "match_case": True},
        "TALIBAN SAID",
    ),
    pos(
        "override-taliban-exact",
        EN,
        LAT,
        {"text": "Taliban", "match_case": True},
        "the Taliban said",
    ),
    pos("taliban-caps-default", EN, LAT, "Taliban", "THE TALIBAN SAID"),
    pos("taliban-lower-default", EN, LAT, "Taliban", "the taliban said"),
    pos("ttp-caps", EN, LAT, "TTP", "the TTP said"),
    neg("ttp-lower", EN, LAT, "TTP", "a ttp file"),
    pos("caps-term-in-caps-headline", EN, LAT, "ISIS", "ISIS CLAIMS KABUL ATTACK"),
    pos("acronym-possessive-case", EN, LAT, "ISKP", "ISKP’s leader", "ISKP"),
    neg("acronym-wrong-case-possessive", EN, LAT, "ISKP", "Iskp’s leader"),
]

PLURALS_AND_POSSESSIVES = [
    actor("seed-isisk-possessive", EN, LAT, "Facilitating ISIS-K’s Expansion", "ISIS-K"),
    actor("isisk-straight-possessive", EN, LAT, "ISIS-K's expansion", "ISIS-K"),
    actor("khorasan-possessive", EN, LAT, "ISIS-Khorasan’s activities", "ISIS-Khorasan", "ISIS-K"),
    pos("plural-s", EN, LAT, "attack", "two attacks in one day"),
    pos("plural-es", EN, LAT, "church", "three churches burned"),
    pos("plural-es-bus", EN, LAT, "bus", "buses were stopped"),
    pos("possessive-straight", EN, LAT, "Taliban", "the Taliban's spokesman"),
    pos("possessive-curly", EN, LAT, "Taliban", "the Taliban’s spokesman"),
    pos("plural-possessive", EN, LAT, "militant", "the militants’ hideout"),
    pos("plural-possessive-straight", EN, LAT, "militant", "the militants' hideout"),
    neg("no-stemming-ing", EN, LAT, "accuse", "accusing three countries"),
    neg("no-stemming-ed", EN, LAT, "accuse", "he accused three countries"),
    neg("no-stemming-ation", EN, LAT, "accuse", "an accusation was made"),
    pos("plural-s-of-verb-form", EN, LAT, "accuse", "Muttaqi accuses three countries"),
    neg("no-es-after-consonant", EN, LAT, "cod", "source codes leaked"),
    neg("plural-not-for-other-suffix", EN, LAT, "bomb", "a bomber struck"),
    pos("apostrophe-in-term", EN, LAT, "Qur'an", "copies of the Qur’an burned"),
    pos("apostrophe-in-term-curly", EN, LAT, "Qur’an", "copies of the Qur'an burned"),
    pos("apostrophe-modifier-letter", EN, LAT, "Qur'an", "copies of the Qurʼan burned"),
    pos("taliban-possessive-seed", EN, LAT, "Taliban", "the Taliban’s resurgence to authority"),
]

UNICODE_FORMS = [
    pos("nfkc-fullwidth", EN, LAT, "ISIS", "ＩＳＩＳ claimed it"),
    pos("nfkc-math-bold", EN, LAT, "ISIS", "𝐈𝐒𝐈𝐒 claimed it"),
    pos("nfkc-ligature", EN, LAT, "fighters", "ﬁghters crossed"),
    pos("nfkc-decomposed-accent", "fr", LAT, "État islamique", "l'E\u0301tat islamique"),
    pos("soft-hyphen-inside", EN, LAT, "Taliban", "the Tali\u00adban said"),
    pos("zero-width-joiner-inside", EN, LAT, "Taliban", "the Tali\u200dban said"),
    pos("bidi-marks-around", EN, LAT, "Taliban", "\u200fTaliban\u200f said"),
    pos("crlf-line-endings", EN, LAT, "suicide bombing", "a suicide\r\nbombing"),
]

OTHER_LATIN = [
    pos("fr-elision", "fr", LAT, "État islamique", "L'attentat de l’État islamique à Kaboul"),
    pos("fr-guillemets", "fr", LAT, "EI", "le groupe «EI» a revendiqué"),
    neg("fr-word-inside", "fr", LAT, "Kaboul", "les Kabouliens"),
    pos("de-term", "de", LAT, "Anschlag", "Der Anschlag in Kabul"),
    neg("de-umlaut-plural", "de", LAT, "Anschlag", "Die Anschläge in Kabul"),
    pos("de-compound-with-hyphen", "de", LAT, "IS", "die IS-Miliz griff an"),
    neg("de-compound-joined", "de", LAT, "Taliban", "die Talibanherrschaft endete"),
    pos("es-accent", "es", LAT, "Estado Islámico", "el Estado Islámico reivindicó"),
    pos("es-inverted-punctuation", "es", LAT, "Kabul", "¿Kabul? ¡Kabul!"),
    pos("tr-dotted-i", "tr", LAT, "İslam Devleti", "İslam Devleti saldırıyı üstlendi"),
]

FA, PS, UR, AR, ARAB = "fa", "ps", "ur", "ar", "Arabic"
DAESH_K = "داعش خراسان"

PERSIAN = [
    pos(
        "fa-daesh-khorasan", FA, ARAB, DAESH_K, "گروه داعش خراسان مسئولیت این حمله را بر عهده گرفت"
    ),
    pos("fa-tatweel", FA, ARAB, DAESH_K, "گروه داعـــش خراسان مسئولیت گرفت"),
    pos("fa-harakat", FA, ARAB, DAESH_K, "گروه دَاعِش خُراسان مسئولیت گرفت"),
    pos("fa-zwnj-between", FA, ARAB, DAESH_K, "گروه داعش\u200cخراسان مسئولیت گرفت"),
    pos("fa-zwj-inside", FA, ARAB, DAESH_K, "گروه داع\u200dش خراسان مسئولیت گرفت"),
    pos("fa-dash-between", FA, ARAB, DAESH_K, "گروه داعش-خراسان مسئولیت گرفت"),
    pos("fa-punctuation-around", FA, ARAB, DAESH_K, "«داعش خراسان»، مسئولیت گرفت."),
    pos("fa-question-mark", FA, ARAB, DAESH_K, "آیا داعش خراسان؟"),
    neg("fa-khorasan-razavi", FA, ARAB, DAESH_K, "سیل در استان خراسان رضوی خسارت زد"),
    neg("fa-khorasan-alone", FA, ARAB, DAESH_K, "خراسان منطقه‌ای تاریخی است"),
    neg("fa-daesh-only", FA, ARAB, DAESH_K, "داعش در سوریه شکست خورد"),
    pos("fa-yeh-arabic-in-text", FA, ARAB, "ولایت خراسان", "ولايت خراسان اعلام کرد"),
    pos("fa-yeh-maksura-in-text", FA, ARAB, "ولایت خراسان", "ولاىت خراسان اعلام کرد"),
    pos("fa-yeh-arabic-in-term", FA, ARAB, "ولايت خراسان", "ولایت خراسان اعلام کرد"),
    pos("fa-kaf-arabic-in-text", FA, ARAB, "کابل", "انفجار در كابل"),
    pos("fa-kaf-arabic-in-term", FA, ARAB, "كابل", "انفجار در کابل"),
    pos("fa-teh-marbuta", FA, ARAB, "حمله", "حملة انتحاری"),
    pos("fa-heh-for-teh-marbuta", FA, ARAB, "حملة", "حمله انتحاری"),
    pos("fa-alef-hamza", FA, ARAB, "افغانستان", "دولت أفغانستان"),
    pos("fa-alef-madda", FA, ARAB, "امریکا", "نیروهای آمریکا"),
    pos("fa-plural-suffix-zwnj", FA, ARAB, "طالبان", "طالبان\u200cها گفتند"),
    neg("fa-plural-suffix-joined", FA, ARAB, "طالبان", "طالبانها گفتند"),
    neg("fa-adjective-suffix", FA, ARAB, "طالبان", "حکومت طالبانی"),
    pos("fa-persian-digits", FA, ARAB, "2024", "در سال ۲۰۲۴ میلادی"),
    pos("fa-arabic-indic-digits", FA, ARAB, "2024", "في عام ٢٠٢٤"),
    pos("fa-digits-term-persian", FA, ARAB, "۱۴۰۳", "سال 1403 خورشیدی"),
    neg("fa-digits-longer-number", FA, ARAB, "2024", "شماره ۲۰۲۴۵"),
    pos("fa-heh-with-yeh", FA, ARAB, "خانه", "خانۀ امن"),
    pos("fa-zwnj-compound-term", FA, ARAB, "می گوید", "او می\u200cگوید که"),
    pos("fa-latin-inside-persian", FA, ARAB, "ISIS-K", "گروه ISIS-K مسئولیت گرفت"),
]

PASHTO = [
    pos("ps-wilayat", PS, ARAB, "د خراسان ولایت", "د خراسان ولایت ډلې مسؤلیت ومانه"),
    pos("ps-daesh-khorasan", PS, ARAB, DAESH_K, "د داعش خراسان ډلې وویل"),
    pos("ps-yeh-variants", PS, ARAB, "ولسوالۍ", "په دې ولسوالی کې"),
    pos("ps-yeh-variants-reverse", PS, ARAB, "ولسوالی", "په دې ولسوالۍ کې"),
    pos("ps-gaf-ring", PS, ARAB, "ننگرهار", "په ننګرهار کې"),
    pos("ps-gaf-ring-term", PS, ARAB, "ننګرهار", "په ننگرهار کې"),
    pos("ps-e-yeh", PS, ARAB, "کې", "په کابل کی چاودنه"),
    neg("ps-word-inside", PS, ARAB, "کابل", "کابلیان وايي"),
    pos("ps-punct", PS, ARAB, "کابل", "کابل، جلال اباد"),
    pos("ps-tatweel", PS, ARAB, "طالبانو", "طالبـــانو وویل"),
]

URDU = [
    pos("ur-daesh-khorasan", UR, ARAB, DAESH_K, "داعش خراسان نے ذمہ داری قبول کر لی"),
    pos("ur-heh-goal", UR, ARAB, "دولت اسلامیہ", "دولت اسلامیه خراسان"),
    pos("ur-heh-goal-in-text", UR, ARAB, "دولت اسلامیه", "دولت اسلامیہ خراسان"),
    pos("ur-yeh-barree", UR, ARAB, "حملے", "حملی میں"),
    pos("ur-do-chashmi-heh", UR, ARAB, "دهماکہ", "کابل میں دھماکہ ہوا"),
    pos("ur-urdu-full-stop", UR, ARAB, "کابل", "دھماکہ کابل۔ پولیس"),
    neg("ur-inside", UR, ARAB, "کابل", "کابلی والا"),
    pos("ur-latin-in-urdu", UR, ARAB, "ISKP", "ISKP نے ذمہ داری قبول کی"),
]

ARABIC = [
    pos("ar-wilaya", AR, ARAB, "ولاية خراسان", "أعلنت ولاية خراسان مسؤوليتها"),
    pos("ar-teh-marbuta-fold", AR, ARAB, "ولاية خراسان", "أعلنت ولايه خراسان مسؤوليتها"),
    pos("ar-islamic-state", AR, ARAB, "الدولة الإسلامية", "تنظيم الدولة الاسلامية أعلن"),
    pos("ar-islamic-state-reverse", AR, ARAB, "الدوله الاسلاميه", "تنظيم الدولة الإسلامية أعلن"),
    pos("ar-harakat", AR, ARAB, "الدولة الإسلامية", "تنظيمُ الدَّوْلَةِ الإِسْلَامِيَّةِ"),
    pos("ar-tatweel", AR, ARAB, "داعش", "تنظيم داعـــش"),
    pos("ar-alef-variants", AR, ARAB, "أفغانستان", "في افغانستان"),
    pos("ar-alef-wasla", AR, ARAB, "الله", "بسم ٱلله"),
    pos("ar-comma", AR, ARAB, "كابول", "كابول، قندهار"),
    pos("ar-proclitic-waw", AR, ARAB, "داعش", "وداعش أعلن", note="rule 5: proclitics"),
    neg("ar-nisba", AR, ARAB, "داعش", "العنصر الداعشي"),
    neg("ar-other-word", AR, ARAB, "داعش", "تنظيم القاعدة"),
    pos("ar-presentation-forms", AR, ARAB, "داعش", "تنظيم ﺩﺍﻋﺶ"),
    pos("ar-arabic-indic-digits-term", AR, ARAB, "٢٠٢٤", "عام 2024"),
]

RU, UK, CYR = "ru", "uk", "Cyrillic"

RUSSIAN = [
    pos("ru-igil-caps", RU, CYR, "ИГИЛ", "Боевики ИГИЛ взяли ответственность"),
    neg("ru-igil-lower", RU, CYR, "ИГИЛ", "слово игил в нижнем регистре"),
    neg("ru-igil-inflected", RU, CYR, "ИГИЛ", "боевики ИГИЛа", note="no stemming"),
    pos("ru-igil-khorasan", RU, CYR, "ИГИЛ-Хорасан", "группировка ИГИЛ-Хорасан заявила"),
    pos("ru-igil-khorasan-en-dash", RU, CYR, "ИГИЛ-Хорасан", "группировка ИГИЛ–Хорасан заявила"),
    pos("ru-igil-khorasan-space", RU, CYR, "ИГИЛ-Хорасан", "группировка ИГИЛ Хорасан заявила"),
    neg("ru-khorasan-alone", RU, CYR, "ИГИЛ-Хорасан", "провинция Хорасан в Иране"),
    pos("ru-vilayat", RU, CYR, "Вилаят Хорасан", "«Вилаят Хорасан» взял ответственность"),
    pos("ru-yo-in-text", RU, CYR, "ее", "Её позиция"),
    pos("ru-yo-in-term", RU, CYR, "Ёлка", "елка стоит"),
    pos("ru-case-insensitive", RU, CYR, "Талибан", "ТАЛИБАН заявил"),
    neg("ru-inside-word", RU, CYR, "Талибан", "талибанизация школ"),
    neg(
        "ru-no-english-plural",
        RU,
        CYR,
        {"text": "террорист", "inflect": False},
        "террористы напали",
        note="rule 6 switched off: no English plural in Cyrillic either",
    ),
    pos("ru-phrase", RU, CYR, "Исламское государство", "Исламское государство заявило"),
    pos(
        "ru-phrase-inflected",
        RU,
        CYR,
        "Исламское государство",
        "Исламского государства",
        note="rule 6: inflection",
    ),
    pos("ru-quotes", RU, CYR, "Талибан", "движение «Талибан» (запрещено)"),
    pos("uk-term", UK, CYR, "Кабул", "вибух у місті Кабул"),
    neg("uk-inflected", UK, CYR, "Кабул", "вибух у Кабулі"),
    pos("uk-apostrophe", UK, CYR, "м'ясо", "м’ясо подорожчало"),
]

OTHER_SCRIPTS = [
    pos("hi-term", "hi", "Devanagari", "आतंकवादी", "काबुल में आतंकवादी हमला"),
    neg("hi-inside", "hi", "Devanagari", "हमला", "हमलावर पकड़ा गया"),
    pos("el-term", "el", "Greek", "Καμπούλ", "έκρηξη στην Καμπούλ"),
]

EXCLUDES = [
    Case(
        "exclude-suppresses",
        EN,
        LAT,
        "an ISIS-themed video game launched",
        ("ISIS",),
        (),
        exclude=("video game",),
    ),
    Case(
        "exclude-elsewhere-in-text",
        EN,
        LAT,
        "ISIS attacked. Separately, a video game sold well.",
        ("ISIS",),
        (),
        exclude=("video game",),
    ),
    Case(
        "exclude-not-present",
        EN,
        LAT,
        "ISIS attacked the checkpoint.",
        ("ISIS",),
        ("ISIS",),
        exclude=("video game",),
    ),
    Case(
        "exclude-word-boundary",
        EN,
        LAT,
        "ISIS attacked; video gamers were unaffected.",
        ("ISIS",),
        ("ISIS",),
        exclude=("video game",),
    ),
    Case(
        "exclude-case-rule",
        EN,
        LAT,
        "ISIS attacked; Isis the cat is fine.",
        ("ISIS",),
        ("ISIS",),
        exclude=("ISKCON",),
    ),
    Case(
        "exclude-actor",
        FA,
        ARAB,
        "داعش خراسان در بازی ویدیویی",
        (),
        (),
        actors=({"name": "داعش خراسان"},),
        exclude=("بازی ویدیویی",),
    ),
]

OVERLAPS = [
    neg("isisk-term-alone-not-in-khorasan", EN, LAT, "ISIS-K", "ISIS-Khorasan claimed it"),
    pos(
        "plain-terms-do-not-nest",
        EN,
        LAT,
        ("ISIS-K", "ISIS-Khorasan"),
        "ISIS-Khorasan claimed it",
        "ISIS-Khorasan",
        note="only an actor's own names count inside each other",
    ),
    pos(
        "plain-kabul-not-in-kabulistan",
        EN,
        LAT,
        ("Kabul", "Kabulistan"),
        "Kabulistan is not a place",
        "Kabulistan",
    ),
    Case(
        "alias-inside-other-actors-name",
        EN,
        LAT,
        "ISIS-Khorasan claimed it",
        (),
        (),
        actors=({"name": "ISIS-K"}, {"name": "ISIS-Khorasan-X"}),
        note="the longer name belongs to another actor (and does not hit either)",
    ),
    Case(
        "alias-inside-actor-name-not-isis-in-crisis",
        EN,
        LAT,
        "the crisis and ISKCON; Khorasan Razavi",
        (),
        (),
        actors=({"name": "ISIS-Khorasan", "aliases": ["ISIS", "ISIS-K"]},),
    ),
    Case(
        "alias-inside-persian-name",
        FA,
        ARAB,
        "داعشیان خراسان حمله کردند",
        (),
        ("داعش", "داعشیان خراسان"),
        actors=({"name": "داعشیان خراسان", "aliases": ["داعش"]},),
    ),
    pos("overlap-isis-and-isisk", EN, LAT, ("ISIS", "ISIS-K"), "ISIS-K claimed it"),
    pos(
        "overlap-isis-in-khorasan",
        EN,
        LAT,
        ("ISIS", "ISIS-Khorasan"),
        "ISIS-Khorasan claimed it",
    ),
    pos(
        "overlap-nested-phrases",
        EN,
        LAT,
        ("Islamic State", "Islamic State Khorasan", "State Khorasan"),
        "the Islamic State Khorasan group",
    ),
    pos("overlap-adjacent", EN, LAT, ("Kabul", "Kandahar"), "Kabul Kandahar highway"),
    pos("several-terms-one-hit", EN, LAT, ("Kabul", "Herat", "Mazar"), "Herat only", "Herat"),
]

CASES: list[Case] = [
    *WORD_BOUNDARIES,
    *DASH_AND_SPACE_VARIANTS,
    *CASE_RULES,
    *PLURALS_AND_POSSESSIVES,
    *UNICODE_FORMS,
    *OTHER_LATIN,
    *PERSIAN,
    *PASHTO,
    *URDU,
    *ARABIC,
    *RUSSIAN,
    *OTHER_SCRIPTS,
    *EXCLUDES,
    *OVERLAPS,
]
