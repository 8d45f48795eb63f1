"""Language detection on short and long news text in the languages the monitor watches."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.pipeline.language import detect_language

SEED = Path(__file__).parent.parent / "fixtures" / "seed-article.txt"

SAMPLES = [
    ("en", "Explosion in Kabul"),
    ("en", "Suicide attack kills dozens"),
    ("en", "ISIS claims attack"),
    ("en", "Taliban Foreign Minister Accuses Neighboring Countries"),
    ("ru", "Привет, как дела?"),
    ("ru", "Взрыв в Кабуле"),
    ("ru", "Новости дня"),
    ("ru", "Я люблю тебя"),
    ("ru", "Сегодня в Москве"),
    ("ru", "Боевики ИГИЛ-Хорасан взяли ответственность за теракт"),
    ("uk", "Україна отримала нову допомогу від партнерів"),
    ("fa", "در کابل انفجار رخ داد"),
    ("fa", "حمله انتحاری در کابل"),
    ("fa", "داعش خراسان مسئولیت حمله را به عهده گرفت"),
    ("fa", "طالبان امروز اعلام کردند که مکتب‌ها بسته می‌مانند"),
    ("fa", "وزارت امور خارجه افغانستان گفت"),
    ("ps", "په کابل کې چاودنه وشوه"),
    ("ps", "طالبانو ویلي چې"),
    ("ps", "د داعش خراسان ډلې مسؤلیت ومنه"),
    ("ps", "د طالبانو حکومت ویاند ذبیح الله مجاهد ویلي چې په ننګرهار کې د داعش غړي ونیول شول"),
    ("ur", "کابل میں دھماکہ ہوا"),
    ("ur", "پاکستان نے کہا ہے کہ"),
    ("ur", "داعش خراسان نے ذمہ داری قبول کر لی"),
    ("ar", "انفجار في كابول"),
    ("ar", "قالت وزارة الخارجية"),
    ("ar", "أعلن تنظيم داعش خراسان مسؤوليته عن التفجير الانتحاري الذي استهدف العاصمة الأفغانية"),
    ("fr", "L'État islamique revendique l'attentat de Kaboul"),
    ("de", "Der Anschlag in Kabul forderte viele Opfer"),
]


@pytest.mark.parametrize(("code", "text"), SAMPLES, ids=[f"{c}-{t[:20]}" for c, t in SAMPLES])
def test_detects(code: str, text: str) -> None:
    assert detect_language(text) == code


@pytest.mark.parametrize("text", ["", "   ", "ok", "123 456 789", "Kabul", "!!! ???", "داعش"])
def test_too_short_or_empty_is_unknown(text: str) -> None:
    assert detect_language(text) == ""


def test_seed_article_is_english() -> None:
    assert detect_language(SEED.read_text(encoding="utf-8")) == "en"


def test_codes_are_two_letters() -> None:
    for _, text in SAMPLES:
        assert len(detect_language(text)) == 2


def test_long_text_is_sampled() -> None:
    long_text = "در کابل انفجار رخ داد. " * 2000
    assert detect_language(long_text) == "fa"


def test_persian_without_pashto_letters_is_not_pashto() -> None:
    # A Dari headline that shares most of its words with Pashto.
    assert detect_language("طالبان در ننگرهار حمله کردند") == "fa"
