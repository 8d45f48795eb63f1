"""Cases per matching rule (README "Matching rules"): positives, look-alike negatives, and the
term switch that turns the rule off. A positive names the rules its hits must report; `()`
means the text spells the term as listed (no rule needed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RuleCase:
    id: str
    rule: str  # the rule under test (README numbering)
    script: str
    terms: tuple[Any, ...]
    text: str
    hits: tuple[str, ...]  # the terms that must hit; () means no match at all
    rules: tuple[str, ...] = ()  # what every hit of those terms reports


def yes(id: str, rule: str, script: str, term: Any, text: str, *rules: str) -> RuleCase:
    name = term if isinstance(term, str) else term["text"]
    return RuleCase(id, rule, script, (term,), text, (name,), rules)


def no(id: str, rule: str, script: str, term: Any, text: str) -> RuleCase:
    return RuleCase(id, rule, script, (term,), text, ())


LAT, ARAB, CYR, GRK = "Latin", "Arabic", "Cyrillic", "Greek"
D, M, INV, H, C, R = "1 dashes", "2 diacritics", "3 invisible", "4 hashtags", "5 clitics", "6 ru"

DASHES = [
    yes("hashtag-joined", D, LAT, "ISIS-K", "trending: #ISISK tonight", "joined"),
    yes("camel-joined", D, LAT, "al-Qaeda", "AlQaeda said", "joined"),
    yes("joined-lower", D, LAT, "al-Qaeda", "the alqaeda forum", "joined"),
    yes("joined-plural", D, LAT, "ISIS-K", "two ISISKs", "joined"),
    yes("acronym-spaced-exact", D, LAT, "IS-KP", "the IS KP statement", "spaced"),
    yes("spaced-exact", D, LAT, "ISIS-K", "claimed by ISIS K today", "spaced"),
    yes("hyphen-any-case", D, LAT, "ISIS-K", "claimed by Isis-K today"),
    yes("en-dash", D, LAT, "ISIS-K", "claimed by ISIS–K today"),
    yes("two-dashes-spaced", D, LAT, "Tehrik-i-Taliban", "the Tehrik i Taliban", "spaced"),
    yes("two-dashes-joined", D, LAT, "Tehrik-i-Taliban", "TehrikiTaliban", "joined"),
    yes("two-dashes-mixed", D, LAT, "Tehrik-i-Taliban", "Tehriki-Taliban", "joined"),
    yes("line-wrap-exact", D, LAT, "ISIS-K", "by ISIS\nK today", "spaced"),
    yes("cyrillic-spaced", D, CYR, "ИГИЛ-Хорасан", "группировка ИГИЛ Хорасан", "spaced"),
    yes("phrase-spaced", D, LAT, "Hayat Tahrir al-Sham", "Hayat Tahrir al Sham", "spaced"),
    no("person-name", D, LAT, "ISIS-K", "Isis K. Thompson, a nurse, said"),
    no("spaced-lower", D, LAT, "ISIS-K", "the isis k file"),
    no("spaced-upper", D, LAT, "al-Qaeda", "AL QAEDA HEADLINE"),
    no("joined-too-short", D, LAT, "IS-K", "prices in ISK rose"),
    no("joined-in-longer-word", D, LAT, "ISIS-K", "ISISKA is a band"),
    no("comma-between", D, LAT, "ISIS-K", "blamed ISIS, K Street lobbyists"),
    no("slash-other-case", D, LAT, "ISIS-K", "Isis/K"),
    no("switch-joined", D, LAT, {"text": "ISIS-K", "dashes": False}, "#ISISK tonight"),
    no("switch-spaced", D, LAT, {"text": "ISIS-K", "dashes": False}, "by ISIS K today"),
    yes("switch-dash-kept", D, LAT, {"text": "ISIS-K", "dashes": False}, "by ISIS—K today"),
]

DIACRITICS = [
    yes("macrons-in-term", M, LAT, "Khorāsān", "floods in Khorasan", "diacritics"),
    yes("macrons-in-text", M, LAT, "Khorasan", "the Khorāsān province", "diacritics"),
    yes("macrons-both", M, LAT, "Khorāsān", "the Khorāsān province"),
    yes("decomposed", M, LAT, "Khorasan", "Khora\u0304sa\u0304n", "diacritics"),
    yes("ayn-in-term", M, LAT, "Qāʿida", "al-Qaida", "diacritics"),
    yes("ayn-in-text", M, LAT, "Daesh", "Daʿesh fighters", "diacritics"),
    yes("apostrophe-in-text", M, LAT, "Daesh", "Da'esh fighters", "diacritics"),
    yes("curly-apostrophe", M, LAT, "Daʿesh", "Da’esh fighters", "diacritics"),
    yes("hamza-mark", M, LAT, "Qurʾan", "the Quran", "diacritics"),
    yes("umlaut", M, LAT, "Zurich", "in Zürich", "diacritics"),
    yes("stroke", M, LAT, "Lodz", "in Łódź", "diacritics"),
    yes("tilde-phrase", M, LAT, "Sao Paulo", "São Paulo police", "diacritics"),
    yes("dots-below", M, LAT, "Haqqani", "the Ḥaqqānī network", "diacritics"),
    yes("turkish-dotted", M, LAT, "Istanbul", "İstanbul belediyesi", "diacritics"),
    yes("possessive-plain", M, LAT, "Taliban", "the Taliban’s spokesman"),
    no("longer-word", M, LAT, "Khorāsān", "a Khorasani poet"),
    no("other-letters", M, LAT, "Qāʿida", "Qaidah"),
    no("elision-keeps-words", M, LAT, "letat", "l'État islamique"),
    no("greek-accents-kept", M, GRK, "Καμπουλ", "στην Καμπούλ"),
    no("apostrophe-glued-longer", M, LAT, "Daesh", "Da'eshi media"),
    yes("turkish-suffix", M, LAT, "Istanbul", "İstanbul'da", "diacritics"),
    yes("turkish-suffix-genitive", M, LAT, "ISIS", "IŞİD'in ve ISIS'in"),
    no("transliteration-not-suffix", M, LAT, "Jama", "Jama'at Nusrat al-Islam"),
    no("switch-off", M, LAT, {"text": "Khorāsān", "diacritics": False}, "in Khorasan"),
    no("switch-off-mark", M, LAT, {"text": "Daesh", "diacritics": False}, "Daʿesh said"),
    yes("switch-off-same", M, LAT, {"text": "Khorāsān", "diacritics": False}, "in Khorāsān"),
]

INVISIBLE = [
    yes("soft-hyphen", INV, LAT, "Taliban", "the Tali\u00adban said", "invisible"),
    yes("zero-width-space", INV, LAT, "Taliban", "the Tali\u200bban said", "invisible"),
    yes("zero-width-joiner", INV, LAT, "Taliban", "the Tali\u200dban said", "invisible"),
    yes("word-joiner", INV, LAT, "Taliban", "the Tali\u2060ban said", "invisible"),
    yes("lrm-inside", INV, LAT, "Taliban", "the Tali\u200eban said", "invisible"),
    yes("rlm-inside", INV, ARAB, "داعش", "تنظيم دا\u200fعش", "invisible"),
    yes("bom-inside", INV, LAT, "Kabul", "in Ka\ufeffbul", "invisible"),
    yes("between-words", INV, LAT, "Islamic State", "Islamic \u200bState", "invisible"),
    yes("arabic-zwsp", INV, ARAB, "داعش", "تنظيم داع\u200bش", "invisible"),
    yes("cyrillic-soft-hyphen", INV, CYR, "Хорасан", "провинция Хора\u00adсан", "invisible"),
    yes("before-dash", INV, LAT, "ISIS-K", "by ISIS\u200b-K today", "invisible"),
    yes("marks-outside", INV, LAT, "Taliban", "\u200fTaliban\u200f said"),
    no("zwnj-is-a-space", INV, LAT, "Taliban", "the Tali\u200cban said"),
    no("zwsp-joins-phrase", INV, LAT, "suicide bombing", "suicide\u200bbombing"),
    no("longer-word", INV, LAT, "Taliban", "Tali\u00adbanistan"),
    no("zwsp-glues-prefix", INV, LAT, "Kabul", "pre\u200bKabul"),
    no("switch-off", INV, LAT, {"text": "Taliban", "invisible": False}, "Tali\u00adban"),
    yes("switch-off-plain", INV, LAT, {"text": "Taliban", "invisible": False}, "the Taliban"),
]

AQAP = "القاعدة في جزيرة العرب"
HASHTAGS = [
    yes("arabic-phrase", H, ARAB, AQAP, "#القاعدة_في_جزيرة_العرب", "hashtag"),
    yes("arabic-tail", H, ARAB, "جزيرة العرب", "#القاعدة_في_جزيرة_العرب", "hashtag"),
    yes("arabic-word", H, ARAB, "القاعدة", "#القاعدة_في_جزيرة_العرب", "hashtag"),
    yes("latin-phrase", H, LAT, "Islamic State", "#Islamic_State claims", "hashtag"),
    yes("latin-word", H, LAT, "Kabul", "#Kabul_attack today", "hashtag"),
    yes("dash-term", H, LAT, "ISIS-K", "#ISIS_K claims", "hashtag"),
    yes("dash-term-any-case", H, LAT, "al-Qaeda", "#Al_Qaeda", "hashtag"),
    yes("fullwidth-hash", H, LAT, "Islamic State", "＃Islamic_State", "hashtag"),
    yes("cyrillic", H, CYR, "Исламское государство", "#Исламское_государство", "hashtag"),
    yes("persian", H, ARAB, "داعش خراسان", "#داعش_خراسان", "hashtag"),
    yes("trailing-underscore", H, LAT, "Kabul", "#Kabul_ now", "hashtag"),
    yes("no-hash", H, LAT, "Islamic State", "file Islamic_State.pdf"),
    yes("plain-hashtag", H, LAT, "Kabul", "#Kabul news"),
    no("camel-case", H, LAT, "Islamic State", "#IslamicState claims"),
    no("glued", H, LAT, "Kabul", "#Kabulattack"),
    no("arabic-glued", H, ARAB, "القاعدة", "#القاعدةفي"),
    no("inside-longer", H, LAT, "Kabul", "#Kabulistan_news"),
    no("switch-off", H, LAT, {"text": "Islamic State", "hashtags": False}, "#Islamic_State"),
]

QAEDA = "القاعدة"
CLITICS = [
    yes("waw-article", C, ARAB, QAEDA, "والقاعدة أعلنت", "clitic"),
    yes("ba-article", C, ARAB, QAEDA, "مرتبط بالقاعدة", "clitic"),
    yes("lam-article", C, ARAB, QAEDA, "ولاء للقاعدة", "clitic"),
    yes("fa-article", C, ARAB, QAEDA, "فالقاعدة تبنت", "clitic"),
    yes("kaf-article", C, ARAB, QAEDA, "كالقاعدة تماما", "clitic"),
    yes("waw-lam-article", C, ARAB, QAEDA, "وللقاعدة فروع", "clitic"),
    yes("waw-ba-article", C, ARAB, QAEDA, "وبالقاعدة", "clitic"),
    yes("waw-name", C, ARAB, "داعش", "وداعش أعلن", "clitic"),
    yes("lam-name", C, ARAB, "داعش", "بيعة لداعش", "clitic"),
    yes("article-added", C, ARAB, "دولة", "الدولة", "clitic"),
    yes("phrase-first-word", C, ARAB, "الدولة الإسلامية", "والدولة الإسلامية", "clitic"),
    yes("phrase-lam", C, ARAB, "الدولة الإسلامية", "للدولة الإسلامية", "clitic"),
    yes("persian-waw", C, ARAB, "طالبان", "وطالبان گفتند", "clitic"),
    yes("separate-waw", C, ARAB, QAEDA, "و القاعدة"),
    no("short-term", C, ARAB, "بن", "وبن"),
    no("nisba", C, ARAB, "داعش", "والداعشي"),
    no("second-word", C, ARAB, "الدولة الإسلامية", "الدولة والإسلامية"),
    no("dual-suffix", C, ARAB, QAEDA, "والقاعدتين"),
    no("other-prefix", C, ARAB, QAEDA, "ماالقاعدة"),
    no("double-article", C, ARAB, QAEDA, "الالقاعدة"),
    no("switch-off", C, ARAB, {"text": QAEDA, "clitics": False}, "والقاعدة"),
]

IS_RU = "Исламское государство"
RUSSIAN = [
    yes("genitive", R, CYR, "Талибан", "представители Талибана", "inflection"),
    yes("dative", R, CYR, "Талибан", "по Талибану", "inflection"),
    yes("instrumental", R, CYR, "Талибан", "с Талибаном", "inflection"),
    yes("prepositional", R, CYR, "Талибан", "о Талибане", "inflection"),
    yes("genitive-plural", R, CYR, "Талибан", "нет талибанов", "inflection"),
    yes("phrase-genitive", R, CYR, IS_RU, "боевики Исламского государства", "inflection"),
    yes("phrase-instrumental", R, CYR, IS_RU, "Исламским государством", "inflection"),
    yes("phrase-one-word", R, CYR, IS_RU, "Исламское государства", "inflection"),
    yes("city", R, CYR, "Кабул", "в Кабуле", "inflection"),
    yes("province", R, CYR, "Хорасан", "вилаята Хорасана", "inflection"),
    yes("plural", R, CYR, "террорист", "террористы напали", "inflection"),
    yes("acronym-then-word", R, CYR, "ИГИЛ-Хорасан", "ИГИЛ-Хорасана", "inflection"),
    yes("capitals", R, CYR, "Талибан", "ЗАЯВЛЕНИЕ ТАЛИБАНА", "inflection"),
    yes("base-form", R, CYR, "Талибан", "движение Талибан"),
    no("other-word", R, CYR, IS_RU, "исламские государственные"),
    no("acronym", R, CYR, "ИГИЛ", "боевики ИГИЛа"),
    no("derivation", R, CYR, "Талибан", "талибанизация школ"),
    no("adjective", R, CYR, "государство", "государственный"),
    no("not-adjacent", R, CYR, IS_RU, "Исламского, государства"),
    no("wrong-order", R, CYR, IS_RU, "государства Исламского"),
    no("short-word", R, CYR, "мир", "мира"),
    no("ukrainian", R, CYR, "Кабул", "у Кабулі"),
    no("prefix", R, CYR, "Талибан", "протталибана"),
    no("switch-off", R, CYR, {"text": "Талибан", "inflect": False}, "Талибана"),
]

RULE_CASES: list[RuleCase] = [*DASHES, *DIACRITICS, *INVISIBLE, *HASHTAGS, *CLITICS, *RUSSIAN]
