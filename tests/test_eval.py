"""`make eval`'s judge of the reply language: what it reports must be what a customer reads."""

from app.config import load_settings
from app.services.language import LanguageDetector
from app.services.texts import Texts
from bench.eval import reply_language

TEXTS = Texts(load_settings({}).replies)
DETECTOR = LanguageDetector()


def test_a_passage_in_english_full_of_spanish_names_is_judged_english():
    """lingua alone read this surf school's English page as Spanish (its names, its "é"),
    and the eval counted a reply in the customer's language as a miss."""
    reply = ("## Where to find us\nOur hut is at Valdevaqueros beach, kilometre 75 of the "
             "N-340, next to the\nDunes Café. There is a free car park by the road, and the "
             "Tarifa–Punta Paloma bus\nstops 200 metres away.")
    assert reply_language(reply, TEXTS, DETECTOR) == "en"


def test_a_spanish_passage_and_the_bots_own_texts_are_judged_by_their_language():
    assert reply_language("## Horario\nAbrimos de lunes a viernes de 9:00 a 14:00 y los "
                          "sábados por la mañana.", TEXTS, DETECTOR) == "es"
    note = TEXTS.get("other_language", "en")
    assert reply_language(f"{note}\n\n## Horario\nAbrimos de lunes a viernes.", TEXTS,
                          DETECTOR) == "en"
