"""The bot: the right passage in the customer's language, small talk, follow-ups, refusals."""

from __future__ import annotations

import re

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from prometheus_client import REGISTRY

from app.config import load_settings
from app.services.bot import OUTCOMES, _kinds_asked, make_bot, make_model
from app.services.chat import ChatManager
from app.services.extractive import ExtractiveChatModel
from app.services.retrieval.embeddings import (
    E5SmallEmbeddings,
    UniversalSentenceEmbeddings,
    clear_question_cache,
)
from app.services.store.sqlite import SqliteStore
from app.services.texts import Texts
from tests.server import ROOT

TEXTS = Texts()
# A conversation that has just been answered about shipping to Portugal.
AFTER_PORTUGAL = [("user", "hacéis envíos a portugal?"), ("assistant", "Sí, enviamos a Portugal.")]


class RecordingModel(FakeListChatModel):
    """A fake chat model that keeps the messages it was prompted with."""

    prompts: list = []

    def _call(self, messages, stop=None, run_manager=None, **kwargs):
        self.prompts.append(messages)
        return super()._call(messages, stop, run_manager, **kwargs)


def _eval_bot(name: str, cache):
    """The offline bot over an eval set's documents (`bench/eval/<name>`), its index cached
    in `cache`."""
    return make_bot(load_settings({"KNOWLEDGE_DIR": str(ROOT / "bench/eval" / name),
                                   "INDEX_CACHE_DIR": str(cache)}), TEXTS)


@pytest.fixture(scope="module")
def index_cache(tmp_path_factory):
    """One index cache for the module: each knowledge base is embedded once."""
    return str(tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="module")
def bot(index_cache):
    return make_bot(load_settings({"INDEX_CACHE_DIR": index_cache}), TEXTS)


@pytest.fixture(scope="module")
def garage(index_cache):
    """The bot over the car repair shop's documents (an eval set's)."""
    return _eval_bot("taller", index_cache)


@pytest.fixture(scope="module")
def optician(index_cache):
    """The bot over the optician's documents (an eval set's)."""
    return _eval_bot("optica", index_cache)


@pytest.mark.parametrize("question, language, fact", [
    ("a q hora abren el sabado??", "es", "10:00 a 14:00"),
    ("kiero borrar mis datos", "es", "privacidad@olivardelavega.es"),
    ("aceptan paypal?", "es", "PayPal"),
    ("what time do you open on saturdays", "en", "10:00 to 14:00"),
    ("how do i delete my data", "en", "delete my data"),
    ("do you ship to portugal", "en", "Portugal"),
])
def test_answers_from_the_right_passage_in_the_customers_language(bot, question, language,
                                                                  fact):
    answer = bot.answer(question, [], language)
    assert fact in " ".join(answer.split())
    assert not answer.startswith(TEXTS.get("other_language", language))


def test_can_is_no_topic_in_spanish_either(bot):
    """"¿se puede pagar con Bizum?" quoted the returns first ("se pueden devolver", "si
    pagaste con Bizum"), as if "puede" said what it asks about; "can" never did in English."""
    answer = bot.answer("se puede pagar con bizum?", [], "es")
    assert answer.startswith("## Formas de pago"), answer[:80]


@pytest.mark.parametrize("question", ["do you sell gift cards", "do you sell gift cards?"])
def test_a_question_answered_only_in_the_other_language_says_so_in_the_customers(bot,
                                                                                 question):
    """With "?", the English payment methods tie with the Spanish gift cards: they are not
    quoted before the better answer, nor after it under the note saying it is Spanish."""
    answer = bot.answer(question, [], "en")
    assert answer.startswith("I only have this information in Spanish:")
    assert "tarjetas regalo" in answer.lower() and "Payment methods" not in answer


@pytest.mark.parametrize("message, language, kind", [
    ("hola", "es", "greeting"), ("hi", "en", "greeting"), ("muchas gracias!", "es", "thanks"),
    ("ok thx", "en", "thanks"), ("hasta luego", "es", "goodbye"), ("bye", "en", "goodbye"),
    ("quiero hablar con una persona", "es", "handoff"), ("human please", "en", "handoff"),
])
def test_small_talk_gets_the_reply_a_person_expects(bot, message, language, kind):
    assert bot.answer(message, [], language) == TEXTS.get(kind, language)


@pytest.mark.parametrize("message, language", [
    ("thanks, see you saturday", "en"), ("gracias, nos vemos el viernes", "es"),
    ("genial, hasta mañana", "es")])
def test_a_goodbye_until_a_day_closes_the_conversation(bot, message, language):
    """A customer who has booked says goodbye until the day: "thanks, see you saturday" was
    0.618 from the examples, under the bar, and got "I don't have information about that";
    "genial, hasta mañana" got the greeting. A question about a day is still answered."""
    assert bot.answer(message, [], language) in (TEXTS.get("thanks", language),
                                                 TEXTS.get("goodbye", language))
    assert "10:00" in bot.answer("are you open on saturday?", [], "en")


@pytest.mark.parametrize("message, language", [
    ("nos vemos el viernes", "es"), ("vale, hasta el sabado que viene", "es"),
    ("see you on friday", "en"), ("genial, hasta el sabado", "es")])
def test_a_goodbye_is_not_searched_for_the_day_it_names(index_cache, message, language):
    """"nos vemos el viernes" got a board game café's timetable, which names Fridays, over
    the bar a closing needs: the day a goodbye looks forward to is not what it asks about.
    Nor its article: "genial, hasta el" was 0.775 from the thanks, under the bar, and the
    timetable answered "genial, hasta el sábado"."""
    cafe = _eval_bot("juegos", index_cache)
    assert cafe.answer(message, [], language) in (TEXTS.get("thanks", language),
                                                  TEXTS.get("goodbye", language))
    assert "Viernes y sábados, de 12:00 a 01:00" in cafe.answer("abris el viernes?", [], "es")


def test_a_goodbye_read_as_thanks_without_its_day_is_searched_without_it(index_cache):
    """"gracias, nos vemos el viernes" is a goodbye at 0.78 and, without its day, thanks at
    0.77: a closing either way, under the bar that answers it whatever a search finds, and it
    had been searched with its day, which found a tapas bar's set lunch, "De martes a
    viernes". A question of the day still gets the set lunch."""
    bar = _eval_bot("tasca", index_cache)
    assert bar.answer("gracias, nos vemos el viernes", [], "es") in (
        TEXTS.get("thanks", "es"), TEXTS.get("goodbye", "es"))
    assert "14 €" in bar.answer("hay menu del dia el viernes?", [], "es")


@pytest.mark.parametrize("message, language, kind", [
    ("ya os digo algo", "es", "goodbye"), ("perfecto, mañana me paso", "es", "goodbye"),
    ("catch you later", "en", "goodbye"), ("speak soon", "en", "goodbye"),
    ("buenas, tengo una consulta", "es", "greeting"), ("hola! una duda", "es", "greeting"),
    ("hey, got a question", "en", "greeting"), ("hello, I have a question", "en", "greeting")])
def test_a_closing_that_promises_to_write_or_come_and_a_greeting_that_announces_a_question(
        bot, message, language, kind):
    """"Luego te escribo", "talk soon", "hi, quick question" got "I don't have information
    about that", and "talk soon" the passage on talking to a person: the examples had no
    closing that puts the conversation off and no greeting that announces a question. These
    phrasings are none of the examples; a question with them is still answered."""
    assert bot.answer(message, [], language) == TEXTS.get(kind, language)
    assert "Gastos de envío" in bot.answer("hola, una pregunta: haceis envios a canarias?", [],
                                           "es")


@pytest.mark.parametrize("message", ["hasta la semana que viene", "luego hablamos"])
def test_a_closing_needs_more_than_the_bar_to_be_answered_with_a_passage(bot, message):
    """"Hasta la semana que viene" found the shop's hours at 0.747 and "luego hablamos" the
    passage on talking to a person at 0.744, just over the 0.74 bar: a message that reads as
    a goodbye and asks nothing needs the language gap more. One that asks is answered."""
    assert bot.answer(message, [], "es") == TEXTS.get("goodbye", "es")
    assert "10:00" in bot.answer("gracias! y el sabado abris?", [], "es")


@pytest.mark.parametrize("message", ["¿qué?", "como?", "q", "no", "mmm", "ok?"])
def test_a_word_that_asks_or_answers_is_not_taken_for_a_goodbye(bot, message):
    """The encoder put "¿qué?" 0.71 and "no" 0.66 from "chao": a customer who did not follow
    the answer was told goodbye. They are asked to rephrase instead."""
    assert bot.answer(message, [], "es") == TEXTS.get("no_answer", "es")


@pytest.mark.parametrize("message", ["is there a cheap day", "are you open tomorrow",
                                     "hay algo para niños"])
def test_a_question_without_its_mark_is_not_taken_for_a_goodbye(bot, message):
    """"is there a cheap day" was 0.65 from "have a nice day" and a cinema's customer was
    told goodbye: a message that opens as a question asks, with its question mark or
    without it. "Have a nice day" still closes."""
    assert bot.smalltalk.classify(message)[0] is None
    assert bot.smalltalk.classify("have a nice day")[0] == "goodbye"


def test_a_question_is_not_taken_for_a_greeting(bot):
    """"where are you guys" was close enough to "who are you" to get the greeting when no
    passage was found: a greeting never asks where, when or how much."""
    assert bot.smalltalk.classify("where are you guys")[0] is None
    assert bot.answer("where are you guys", [], "en") != TEXTS.get("greeting", "en")


@pytest.mark.parametrize("message, language", [("can you help me with his will", "en"),
                                               ("me podéis ayudar con el testamento", "es")])
def test_asking_for_help_with_something_is_not_a_greeting(bot, message, language):
    """"can you help me with his will" was 0.66 from "how can you help me" and got the
    greeting: help with something names what it is about, and is refused when no document
    says it. Asking what the assistant can help with, or for help with a question, is still
    a greeting."""
    assert bot.smalltalk.classify(message)[0] is None
    assert bot.answer(message, [], language) == TEXTS.get("no_answer", language)
    assert bot.smalltalk.classify("en qué me puedes ayudar?")[0] == "greeting"
    for announcing in ("me puedes ayudar con una duda?", "can you help me with something?",
                       "can you help me with a quick question",
                       "me puedes ayudar con una pequeña cosa"):
        assert bot.smalltalk.classify(announcing)[0] == "greeting", announcing


def test_the_first_greeting_does_not_wait_for_the_examples_to_be_encoded(index_cache):
    """The small talk examples were encoded when the first message arrived: 26 ms more for
    the first "hola" after a worker started. A bot is built with them encoded; a greeting
    then encodes only its own readings (as typed, its words, a word the documents do not
    use), not the dozens of examples."""
    bot = make_bot(load_settings({"INDEX_CACHE_DIR": index_cache}), TEXTS)
    encoded = []
    encode = bot.smalltalk.embeddings.encode
    bot.smalltalk.embeddings.encode = lambda texts, query: encoded.append(texts) or encode(
        texts, query)
    assert bot.answer("buenas tardes!", [], "es") == TEXTS.get("greeting", "es")
    assert encoded and all(text in "buenas tardes!" for texts in encoded for text in texts)


def test_e5_reads_a_question_once_while_the_sentence_encoder_reads_it_too(bot, monkeypatch):
    """The sentence encoder and e5 read a question one after the other: 2 to 3 ms more an
    answer than side by side, on a machine with a core to spare. e5 now encodes it on a
    helper thread meanwhile, once; the answer is the same."""
    clear_question_cache()
    asked, calls = [], []
    encode, prefetch = E5SmallEmbeddings.encode, E5SmallEmbeddings.prefetch
    monkeypatch.setattr(E5SmallEmbeddings, "prefetch", lambda self, texts: (
        asked.append(list(texts)) or prefetch(self, texts)))
    monkeypatch.setattr(E5SmallEmbeddings, "encode", lambda self, texts, query: (
        calls.append(list(texts)) or encode(self, texts, query)))
    assert "Portugal" in bot.answer("hacéis envíos a portugal?", [], "es")
    assert asked == calls == [["hacéis envíos a portugal?"]]


def test_small_talk_as_the_examples_write_it_keeps_e5_free_for_the_next_question(bot,
                                                                                 monkeypatch):
    """Every "hasta luego" and "gracias" was encoded by e5 on the helper thread, for a search
    small talk never makes: the next question, coming at once, waited for it or was encoded
    beside it, on the same cores. A greeting with a question in it is still searched."""
    clear_question_cache()
    calls = []
    encode = E5SmallEmbeddings.encode
    monkeypatch.setattr(E5SmallEmbeddings, "encode", lambda self, texts, query: (
        calls.append(list(texts)) or encode(self, texts, query)))
    for message, kind, language in [("Hasta luego!", "goodbye", "es"), ("gracias", "thanks", "es"),
                                    ("thank you", "thanks", "en"), ("hola", "greeting", "es")]:
        assert bot.answer(message, [], language) == TEXTS.get(kind, language)
    assert calls == []
    assert "Portugal" in bot.answer("hola, hacéis envíos a portugal?", [], "es")
    assert calls == [["hola, hacéis envíos a portugal?"]]


def test_asking_where_the_business_is_encodes_no_question(bot, monkeypatch):
    """"¿dónde estáis?" is searched as the question an address answers, which e5 encoded on
    the spot (the customer's own words too, for nothing): the slowest answers of `make
    eval`, 31 to 42 ms. The bot encodes that question once, when it is built, and keeps it
    through a cleared cache; the answer is the same."""
    clear_question_cache()
    calls = []
    encode = E5SmallEmbeddings.encode
    monkeypatch.setattr(E5SmallEmbeddings, "encode", lambda self, texts, query: (
        calls.append(list(texts)) or encode(self, texts, query)))
    assert "Calle Real 24" in bot.answer("donde estais?", [], "es")
    assert "Calle Real 24" in bot.answer("where are you guys", [], "en")
    assert calls == []
    assert "Portugal" in bot.answer("hacéis envíos a portugal?", [], "es")
    assert calls == [["hacéis envíos a portugal?"]]


def test_a_question_is_read_by_the_sentence_encoder_in_one_call(bot, monkeypatch):
    """Small talk, the search and the stand-ins of a word no document uses each encoded the
    message apart: three calls, 6.6 ms against 3.4 ms for one. The answer is the same."""
    clear_question_cache()
    calls = []
    encode = UniversalSentenceEmbeddings.encode
    monkeypatch.setattr(UniversalSentenceEmbeddings, "encode", lambda self, texts, query: (
        calls.append(list(texts)) or encode(self, texts, query)))
    question = "hacéis envíos a portugal, colega?"  # no document says "colega"
    assert "Portugal" in bot.answer(question, [], "es")
    assert len(calls) == 1 and "colega" in calls[0]


def test_a_greeting_in_the_middle_of_a_conversation_is_not_read_as_a_follow_up(bot):
    """"hola como estas" after a question found nothing alone, was read with that question,
    and got its answer again. A short question is still read with the one before it."""
    history = [("user", "cuanto cuesta la garrafa de 5 litros"), ("assistant", "Desde 52 €.")]
    assert bot.answer("hola como estas", history, "es") == TEXTS.get("greeting", "es")
    assert bot.answer("hello how are you", history, "en") == TEXTS.get("greeting", "en")
    assert "52 €" in bot.answer("y cuanto vale", history, "es")


@pytest.mark.parametrize("message", ["que tal", "hola que tal"])
def test_que_tal_is_a_greeting_not_a_question(bot, message):
    """"qué tal" reached the English page on deleting data through "tal" standing for "any",
    and got the Spanish one: "tal" is a function word."""
    assert bot.answer(message, [], "es") == TEXTS.get("greeting", "es")


@pytest.mark.parametrize("message, kind", [
    ("who are you?", "greeting"), ("hola como estas", "greeting"), ("buenas, como va", "greeting"),
    ("how nice, thanks", "thanks"), ("gracias, cuando pueda me paso", "thanks"),
    ("vale, que vaya bien", "goodbye"), ("cuanto vale", None)])
def test_small_talk_that_asks_after_someone_or_says_when_is_still_small_talk(bot, message,
                                                                           kind):
    """But "cuánto vale" asks a price: "vale" alone is a thanks to the encoder."""
    assert bot.smalltalk.classify(message)[0] == kind


@pytest.mark.parametrize("message, kind", [("k", "thanks"), ("venga", "thanks"),
                                           ("adiós", "goodbye"), ("ty", "thanks")])
def test_a_one_word_closing_still_gets_its_reply(bot, message, kind):
    assert bot.answer(message, [], "es") in {TEXTS.get(kind, "es"), TEXTS.get(kind, "en")}


@pytest.mark.parametrize("message, language", [
    ("quiero hablar con la peluquera", "es"), ("puedo hablar con el dentista?", "es"),
    ("me pasas con alguien de recepción", "es"), ("Pásame con la dueña", "es"),
    ("can I speak to the manager", "en"), ("i would like to talk with a stylist", "en"),
    ("me puede llamar alguien?", "es"), ("que me llame alguien porfa", "es"),
    ("can someone call me back", "en"), ("me puede atender alguien de la tienda?", "es"),
    ("hay alguien que me atienda?", "es"), ("can someone from the shop help me?", "en"),
])
def test_asking_for_anyone_of_the_business_reaches_a_person(bot, message, language):
    """The examples cannot name every trade's staff: "hablar con una peluquera" was 0.59
    from "hablar con una persona", so it got a passage and the team was never told. Asking
    to be called is asking for a person too."""
    reply = bot.respond(message, [], language)
    assert reply.wants_person and reply.text == TEXTS.get("handoff", language)


@pytest.mark.parametrize("message", [
    "tengo que hablar con mi marido y os digo", "i need to talk to my wife first",
    "se puede pasar con perro?", "quiero hablar de precios", "me pasa con frecuencia",
    "como se llama la pieza?", "se puede hacer por videollamada?",
    "me podeis atender sin cita?", "me atienden en ingles?",
])
def test_talking_with_ones_own_people_or_about_something_is_no_handoff(bot, message):
    assert not bot.respond(message, [], "es").wants_person


@pytest.mark.parametrize("question, language", [
    ("quien gano el mundial de 2010", "es"), ("cual es la capital de australia", "es"),
    ("can you recommend a good paella recipe", "en"), ("who won the world cup", "en"),
])
def test_out_of_scope_questions_are_refused_in_the_customers_language(bot, question, language):
    assert bot.answer(question, [], language) == TEXTS.get("no_answer", language)


def test_an_answer_only_in_the_other_language_is_quoted_after_the_note(bot):
    """"where is your shop" found the English opening hours (they say "our shop in Úbeda")
    and, a tie behind, the Spanish address: the reply was the hours alone. The address,
    asked of as "the shop" too, comes first, after the note that it is only in Spanish. "when
    does the team answer on whatsapp" had the English *Talking to a person* ("write agent"),
    which does not say when, ahead of the Spanish hours of the team: "team" is a word of the
    English pages only, and stands for the Spanish "equipo" now (`BM25.coverage`)."""
    reply = bot.answer("when does the team answer on whatsapp", [], "en")
    english, _, spanish = reply.partition(TEXTS.get("other_language", "en"))
    assert not english.strip() and "de lunes a viernes de 9:00 a 18:00" in spanish
    reply = bot.answer("where is your shop", [], "en")
    assert reply.startswith(TEXTS.get("other_language", "en")) and "Calle Real 24" in reply


def test_of_two_tied_passages_the_one_holding_the_questions_words_comes_first(bot):
    """"¿aceptáis Bizum?" found the offers passage ("si lo aceptas") a thousandth ahead of
    the payment methods, which name Bizum: the payment methods come first. (The offers,
    which do not name Bizum, were quoted after them until a name asked about had to reach
    the passage that answers an offer question.)"""
    reply = bot.answer("aceptais bizum?", [], "es")
    assert reply.startswith("## Formas de pago") and "Publicidad y ofertas" not in reply


@pytest.fixture(scope="module")
def guesthouse(index_cache):
    """The bot over the rural guesthouse's documents (an eval set's)."""
    return _eval_bot("casarural", index_cache)


def test_a_line_of_a_price_list_is_found_by_what_it_says(index_cache):
    """A PDF price list's last line, "La primera consulta de 30 minutos es gratis.", was one
    sentence with every price before it, and "la primera consulta se paga?" found the FAQ
    "¿Cómo se paga?" instead; "is the first consultation free" was refused. Each line of a
    list that stands on its own is searched on its own too."""
    office = _eval_bot("asesoria", index_cache)
    for question, language in [("la primera consulta se paga?", "es"),
                               ("is the first consultation free", "en")]:
        assert "es gratis" in office.answer(question, [], language), question


def test_there_is_a_function_word_as_hay_is(guesthouse):
    """"Hay" was a function word and "there" was not: "is there parking" was a search for
    "there" as much as for "parking", so the English page's "Free private parking on site"
    held a third of it and was refused; "how do i get there from madrid" found the English
    welcome ahead of the directions."""
    assert "Free private parking" in guesthouse.answer("is there parking", [], "en")
    assert "A-6" in guesthouse.answer("how do i get there from madrid", [], "en")


def test_a_tie_with_a_page_in_the_other_language_goes_to_the_customers_own(guesthouse):
    """"y salir?" after a question on check-in found the English page for visitors (it
    mentions check-out) a hair ahead of the Spanish *Entrada y salida*, which says it."""
    history = [("user", "a q hora se puede entrar?"),
               ("assistant", "Entrada (check-in) de 16:00 a 21:00")]
    reply = guesthouse.answer("y salir?", history, "es")
    own, _, _ = reply.partition(TEXTS.get("other_language", "es"))
    assert own.startswith("## 1. ENTRADA Y SALIDA") and "antes de las 12:00" in own


def test_a_translation_in_other_words_is_quoted_in_the_customers_language(index_cache):
    """A guesthouse whose every page is in both languages: "Check-in and check-out" is 0.849
    from *Entrada y salida*, under the 0.85 a translation was; the Spanish question found the
    English passage first and quoted it, after "Solo tengo esta información en inglés"."""
    hostal = _eval_bot("hostal", index_cache)
    reply = hostal.answer("a que hora se puede hacer el check in", [], "es")
    assert reply.startswith("## Entrada y salida") and "a partir de las 14:00" in reply
    assert TEXTS.get("other_language", "es") not in reply and "Check-in is" not in reply


def test_where_are_you_gets_the_business_address_not_one_it_mentions(index_cache):
    school = _eval_bot("autoescuela", index_cache)
    reply = school.answer("donde estais?", [], "es")
    assert reply.startswith("## DÓNDE ESTAMOS") and "Centro Médico Delicias" not in reply


@pytest.mark.parametrize("kb, question, language, address", [
    ("psicologia", "donde esta la consulta", "es", "Sagasta 22"),
    ("baile", "donde esta la escuela", "es", "San Vicente Mártir 95"),
    ("baile", "where is the school", "en", "San Vicente Mártir 95"),
    ("traducciones", "donde esta la oficina", "es", "Recogidas 31"),
    ("asesoria", "donde teneis la oficina", "es", "Calle Santiago 18")])
def test_where_is_the_place_named_gets_the_address_not_a_passage_that_names_it(
        index_cache, kb, question, language, address):
    """"donde esta la consulta": "dónde" was a function word, so the only word searched was
    "consulta", which a psychology practice's introduction and prices use and its address
    does not; the introduction was quoted. "Where" asks for a place as much as any noun. A
    question of where the premises are is asked as an address is: a translation agency's
    "¿Puedo recoger la traducción en la oficina?" had come first, and an accountant's
    documents, which never say "oficina", had left "donde teneis la oficina" unanswered."""
    business = _eval_bot(kb, index_cache)
    assert address in business.answer(question, [], language)


def test_a_price_question_is_answered_by_the_price_of_what_it_asks_about(garage):
    """The car repair shop's courtesy car "cuesta 20 € al día": "¿cuánto cuesta cambiar el
    aceite?" found it ahead of the price list, which names the oil change."""
    assert "69 €" in garage.answer("cuanto cuesta cambiar el aceite", [], "es").split("##")[1]
    assert "39 €" in garage.answer("cuanto cuesta alinear la direccion", [], "es").split("##")[1]
    assert garage.answer("cuanto cuesta el coche de sustitucion", [], "es").startswith(
        "## Coche de sustitución")


def test_a_price_is_the_one_whose_title_names_what_it_is_asked_of(index_cache):
    """A caterer's drinks ("los menús Cóctel y Mediterráneo incluyen...", an hour of open
    bar 15 €) hold "menú" and "cóctel" as its section *Menú Cóctel* does, and came 0.03
    ahead of it for "cuanto cuesta el menu coctel?". The price whose own title names what is
    asked comes first; the drinks still give the open bar's."""
    caterer = _eval_bot("catering", index_cache)
    assert caterer.answer("cuanto cuesta el menu coctel?", [], "es").startswith(
        "## Menú Cóctel")
    assert "15 €" in caterer.answer("cuanto cuesta la barra libre", [], "es").split("##")[1]
    assert "sin gluten" in caterer.answer("teneis opciones sin gluten?", [], "es")


def test_a_price_by_the_square_metre_is_found_by_its_unit(index_cache):
    """"precio del metro de tarima" found no "metro" in "Tarima flotante instalada: 38 € el
    m²" and was refused; a storage company's "cuánto cuesta el de 15 metros" too."""
    builder = _eval_bot("reformas", index_cache)
    assert "38 €" in builder.answer("precio del metro de tarima", [], "es")


def test_a_spanish_word_in_an_english_message_is_no_slip(index_cache):
    """"our venue is in ronda, do you charge for travel?" was searched as "...in rhonda...":
    the town one edit from an English name. A slip in English is still mended."""
    index = _eval_bot("catering", index_cache).retriever.index
    assert index.read("our venue is in ronda, do you charge for travel?", "en") == (
        "our venue is in ronda, do you charge for travel?")
    assert index.read("do you do a tastng?", "en") == "do you do a tasting?"


def test_a_message_that_carries_on_a_price_question_asks_a_price(index_cache):
    """"y uno doble?" after "¿cuánto cuesta alquilar un kayak una hora?" found the FAQ on
    children's ages ("en kayak doble con un adulto"), 0.012 ahead of the price table, and
    "y para niños de 10 años?" after the guided tour's price found it too. A message that
    asks something else after a price ("y hace falta saber nadar?") is answered as before."""
    rental = _eval_bot("kayak", index_cache)
    price = [("user", "cuanto cuesta alquilar un kayak una hora"),
             ("assistant", rental.answer("cuanto cuesta alquilar un kayak una hora", [], "es"))]
    assert "22 €" in rental.answer("y uno doble?", price, "es").split("##")[1]
    assert rental.answer("y hace falta saber nadar?", price, "es").startswith(
        "## ¿Tengo que saber nadar?")
    tour = [("user", "cuanto cuesta la excursion guiada"), ("assistant", "49 € por persona")]
    assert "35 €" in rental.answer("y para niños de 10 años?", tour, "es").split("##")[1]


def test_a_price_question_is_answered_with_a_price_first(optician):
    """"how much for prescription glasses" found the visitors' page on broken glasses first,
    and no price: the price list, a little behind it, is now quoted first. A question on
    something else that says "cuánto" keeps its order."""
    reply = optician.answer("how much for prescription glasses", [], "en")
    assert "89 €" in reply.split("##")[1]
    assert optician.answer("cuanto tardan unas gafas graduadas", [], "es").startswith(
        "## ¿Cuánto tardan unas gafas graduadas?")


def test_a_passage_is_not_quoted_again_in_the_other_language(bot):
    """The shop's English page translates its Spanish one: "cuando abris hoy" found both,
    a tie apart, and would have sent the hours twice, once in English."""
    hits = bot.relevant("cuando abris hoy", [], "es")
    assert hits[0].passage.title == "Horario de la tienda"
    assert "Shop opening hours" not in [h.passage.title for h in hits]
    reply = bot.answer("cuando abris hoy", [], "es")
    assert TEXTS.get("other_language", "es") not in reply and "9:30" in reply


def test_a_follow_up_is_read_with_the_question_before_it(bot):
    history = [("user", "que tipos de aceite vendeis"), ("assistant", "Picual Temprano...")]
    assert bot.relevant("y en que tamaños", []) == []
    assert bot.relevant("y en que tamaños", history)[0].passage.title == "Formatos y precios"


def test_the_log_and_metrics_say_how_the_bot_answered_and_from_what(bot, tmp_path, caplog):
    """An operator greps `outcome=no_answer` for what the documents lack, and reads which
    passage an answer came from, and how relevant it was."""
    store = SqliteStore(str(tmp_path / "gateway.sqlite3"))
    store.ensure_schema()
    chat = ChatManager(store, bot, texts=TEXTS, detector=bot.detector)
    conversation = store.sessions.get_or_create("34600000009")

    def replies(outcome: str) -> float:
        return REGISTRY.get_sample_value("whatsapp_bot_replies_total",
                                         {"outcome": outcome}) or 0.0

    before = {outcome: replies(outcome) for outcome in OUTCOMES}
    caplog.set_level("INFO", logger="app.services.chat")
    for text in ("hola", "a q hora abren el sabado??", "quien gano el mundial de 2010",
                 "quiero hablar con una persona"):
        chat.generate_response(text, conversation)
    store.close()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("answered ")]
    assert [re.search(r"outcome=(\w+)", line)[1] for line in lines] == [
        "small_talk", "answer", "no_answer", "handoff"]
    assert re.search(r"source=\W*horario-y-contacto\.md › Horario de la tienda\W* "
                     r"relevance=0\.\d+$", lines[1])
    assert all("source=" not in line for line in lines[::2] + lines[3:])
    assert {outcome: replies(outcome) - before[outcome] for outcome in OUTCOMES} == {
        "answer": 1, "no_answer": 1, "small_talk": 1, "handoff": 1}


def test_the_model_gets_language_sources_history_and_question(index_cache):
    model = RecordingModel(responses=["De 10:00 a 14:00."], prompts=[])
    settings = load_settings({"INDEX_CACHE_DIR": index_cache})
    bot = make_bot(settings, TEXTS)
    bot.chain = bot.chain.first | model | bot.chain.last
    bot.condense = None
    history = [("user", "hola"), ("assistant", "¡Hola!")]
    assert bot.answer("a q hora abren el sabado", history, "es") == "De 10:00 a 14:00."
    [messages] = model.prompts[-1:]
    assert [type(m) for m in messages] == [SystemMessage, HumanMessage, AIMessage, HumanMessage]
    system = messages[0].content
    assert "in Spanish" in system and "horario-y-contacto.md › " in system
    assert [m.content for m in messages[1:]] == ["hola", "¡Hola!", "a q hora abren el sabado"]


def test_with_an_llm_a_follow_up_is_made_standalone_before_retrieval(index_cache):
    settings = load_settings({"INDEX_CACHE_DIR": index_cache})
    bot = make_bot(settings, TEXTS)
    condense = RecordingModel(responses=["¿Cuánto cuesta el envío a Canarias?"], prompts=[])
    bot.condense = bot.chain.first.__class__.from_messages([("human", "{question}")]) | (
        condense) | bot.chain.last
    history = [("user", "cuanto tarda un pedido a canarias"), ("assistant", "5 a 8 días")]
    hits = bot.relevant("y cuanto cuesta?", history)
    assert condense.prompts and hits[0].passage.title == "Gastos de envío"


def test_the_offline_model_is_the_default_and_openai_is_one_setting_away():
    assert isinstance(make_model(load_settings({})), ExtractiveChatModel)
    model = make_model(load_settings({"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk-test",
                                      "LLM_MODEL": "gpt-test", "LLM_MAX_TOKENS": "300",
                                      "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}))
    assert (type(model).__name__, model.model_name, model.max_tokens) == (
        "ChatOpenAI", "gpt-test", 300)


def test_only_the_offline_bot_answers_in_an_instant(bot, index_cache):
    """An instant bot's read receipt is sent before it answers; an LLM's, beside it."""
    assert bot.instant
    llm = make_bot(load_settings({"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk-test",
                                  "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
                                  "INDEX_CACHE_DIR": index_cache}), TEXTS)
    assert not llm.instant


def test_a_short_question_on_a_new_topic_is_not_read_as_a_follow_up(bot):
    history = [("user", "kiero borrar mis datos"), ("assistant", "Puedes pedir que borremos...")]
    assert bot.relevant("do you sell gift cards?", history)[0].passage.title == (
        "Tarjetas regalo")


def test_english_questions_over_spanish_only_documents_are_answered_not_refused(tmp_path):
    """Their words are read as the documents' closest words (book, appointment -> cita):
    before, "how do I book an appointment" fell under the threshold and got "no answer"."""
    settings = load_settings({"KNOWLEDGE_DIR": str(ROOT / "bench/eval/clinica"),
                              "INDEX_CACHE_DIR": str(tmp_path)})
    clinic = make_bot(settings, TEXTS)
    for question, fact in [("how do I book an appointment", "983 20 40 60"),
                           ("i have a terrible toothache and you are closed", "guardia")]:
        reply = clinic.answer(question, [], "en")
        assert reply.startswith(TEXTS.get("other_language", "en")) and fact in reply, reply


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    """The bot over the language school's documents (the held-out eval set's)."""
    return _eval_bot("academia", tmp_path_factory.mktemp("school"))


def test_english_opening_hours_reach_the_spanish_timetable_through_abrir(school):
    """The language school's timetable says "Abrimos ...": the English question found it at
    0.718, under the bar, until "opening" reached "abrimos" through its dictionary form."""
    reply = school.answer("what are your opening hours", [], "en")
    assert reply.startswith(TEXTS.get("other_language", "en")) and "9:00 a 21:30" in reply


def test_opening_hours_asked_of_the_business_by_name_find_the_timetable(index_cache):
    """A customer asks "¿a qué hora abre el restaurante?" as often as "¿a qué hora abrís?",
    and Snowball stems "abre" apart from "abrís" and "abrimos": the restaurant's answer
    opened with its takeaway orders (a bike shop's with its late returns)."""
    bot = _eval_bot("restaurante", index_cache)
    assert bot.answer("a que hora abre el restaurante", [], "es").startswith(
        "## Horario\nAbrimos")


def test_a_faq_question_is_matched_for_what_it_answers_not_for_its_shape(school, optician):
    """Alone, "¿Qué pasa si falto a una clase?" matched "¿tenéis clases de guitarra?", and
    "¿Cuánto tardan unas gafas graduadas?" left the price list out of a price question."""
    assert school.answer("teneis clases de guitarra?", [], "es") == TEXTS.get("no_answer", "es")
    assert "recuperarla" in school.answer("que pasa si falto a una clase", [], "es")
    assert "89 €" in optician.answer("cuanto cuestan unas gafas graduadas normales", [], "es")


def test_chat_abbreviations_are_read_as_the_words_they_stand_for(school):
    """"quiero q borreis mis datos" found the data passage at 0.735, under the bar; with "q"
    read as "que", at 0.743."""
    assert "privacidad@academialingua.es" in school.answer("quiero q borreis mis datos", [],
                                                           "es")


def test_a_message_opening_with_and_carries_on_the_question_before(school):
    """Alone, "y es gratis?" found "¿Es accesible?" (0.758), a FAQ question of its shape,
    until FAQ questions were embedded with their answers; alone it is now refused. Its "y"
    says it follows the question about levels, whose test is free."""
    history = [("user", "como se q nivel tengo"), ("assistant", "Antes de empezar...")]
    assert school.answer("y es gratis?", [], "es") == TEXTS.get("no_answer", "es")
    assert "prueba de nivel gratuita" in school.answer("y es gratis?", history, "es")


def _bot_over(tmp_path, documents: dict[str, str]):
    """The offline bot over a knowledge base of these documents (name: text)."""
    kb = tmp_path / "kb"
    kb.mkdir()
    for name, text in documents.items():
        (kb / name).write_text(text, encoding="utf-8")
    return make_bot(load_settings({"KNOWLEDGE_DIR": str(kb),
                                   "INDEX_CACHE_DIR": str(tmp_path / "cache")}), TEXTS)


def test_a_common_spanish_word_is_no_slip_though_no_document_uses_it(tmp_path):
    """"¿buscáis gente para trabajar este verano?" was read as "este vegano", one edit away,
    and an ice cream shop answered with its vegan sorbets. A slip is still mended."""
    shop = _bot_over(tmp_path, {"alergenos.md": (
        "# Alérgenos\n\n## Veganos\n\nLos sorbetes de fruta son aptos para veganos, y el "
        "helado vegano de chocolate se hace con bebida de avena.\n")})
    index = shop.retriever.index
    assert index.read("buscais gente para trabajar este verano?", "es").endswith("verano?")
    assert index.read("teneis helado vegamo?", "es") == "teneis helado vegano?"
    assert shop.answer("buscais gente para trabajar este verano?", [], "es") == TEXTS.get(
        "no_answer", "es")


def test_a_document_of_paragraphs_alone_answers_with_the_paragraph_asked_of(tmp_path):
    """A text of paragraphs with no title was cut in pieces of 900 characters: the opening
    hours came with the cakes to order and gluten, under the file's name as a title."""
    bakery = _bot_over(tmp_path, {"informacion.txt": (
        "Pastelería Dulce Abril, en la calle Verdi 48 de Barcelona, desde 1995. Hacemos todo "
        "en nuestro obrador, cada mañana, con mantequilla de verdad y sin conservantes.\n\n"
        "Abrimos de martes a sábado de 8:00 a 14:00 y de 17:00 a 20:30, y los domingos de "
        "8:30 a 14:30. Los lunes cerramos por descanso del personal.\n\n"
        "Las tartas de cumpleaños se encargan con al menos 48 horas de antelación, por "
        "WhatsApp o en la tienda. Para tartas de boda, pedimos una semana.\n\n"
        "Tenemos opciones sin gluten, elaboradas en una zona separada del obrador, y sin "
        "lactosa. No hacemos productos veganos por ahora.\n")})
    answer = bakery.answer("con cuanta antelacion hay que encargar una tarta", [], "es")
    assert answer.startswith("Las tartas de cumpleaños se encargan")
    assert "domingos" not in answer and "gluten" not in answer
    assert "informacion" not in answer


def test_an_english_answer_in_a_spanish_faq_is_quoted_as_english(tmp_path):
    """Its language was guessed with the FAQ's Spanish title: "Do you speak English? Yes, we
    do" came to an English customer as "I only have this information in Spanish"."""
    bakery = _bot_over(tmp_path, {"faq.md": (
        "# Preguntas frecuentes\n\n## ¿Hacéis tartas sin gluten?\n\nSí, en una zona aparte "
        "del obrador.\n\n## Do you speak English?\n\nYes, we do. You can order cakes in "
        "English on WhatsApp too.\n")})
    answer = bakery.answer("do you speak english?", [], "en")
    assert answer.startswith("## Do you speak English?\nYes, we do.")
    assert TEXTS.get("other_language", "en") not in answer


def test_a_faq_question_gets_its_own_answer_not_the_whole_faq(tmp_path):
    """Each question of a FAQ heads its answer, in plain text (a line ending in "?") as in
    markdown (a bold first line): before, the reply was every question and answer."""
    faq = _bot_over(tmp_path, {
        "faq.txt": "Preguntas frecuentes\n\n¿Hacéis envíos a Canarias?\nSí, en 5 a 7 días; el "
                   "envío cuesta 12 euros.\n\n¿Puedo pagar con Bizum?\nSí, aceptamos Bizum, "
                   "tarjeta y PayPal.\n\n¿Tenéis tienda física?\nSí, en la calle Mayor 12 de "
                   "Teruel.\n",
        "mas.md": "# Más preguntas\n\n**¿Tenéis garantía?**\nDos años desde la compra.\n\n"
                  "**¿Hacéis descuentos por volumen?**\nUn 10% a partir de 10 unidades.\n"})
    for question, fact, others in [("se puede pagar con bizum", "PayPal", ["Canarias", "Teruel"]),
                                   ("tienen garantia", "Dos años", ["10%", "Bizum"])]:
        reply = faq.answer(question, [], "es")
        assert fact in reply and not any(other in reply for other in others), reply


def test_a_foreign_passage_is_let_off_the_language_gap_only_when_a_word_reaches_it(bot,
                                                                                   tmp_path):
    """The gym's lost property is written only in Spanish, and an English question about it
    scores just under the threshold: "locker room" reaches its words (vestuarios). "tell me a
    joke" reaches none, and its closest Spanish passage scores as close: it stays refused."""
    settings = load_settings({"KNOWLEDGE_DIR": str(ROOT / "bench/eval/gimnasio"),
                              "INDEX_CACHE_DIR": str(tmp_path)})
    gym = make_bot(settings, TEXTS)
    reply = gym.answer("I lost my headphones in the locker room", [], "en")
    assert reply.startswith(TEXTS.get("other_language", "en")) and "Objetos perdidos" in reply
    assert bot.answer("tell me a joke", [], "en") == TEXTS.get("no_answer", "en")


def test_a_passage_in_the_customers_language_that_no_word_reaches_needs_a_closer_meaning(
        optician):
    """The optician's documents never speak of surgery: "me operáis de miopía con láser?"
    shares no word with any passage, yet scored 0.751 against the passage on how long glasses
    take, over the 0.74 bar, because both are Spanish and about eyes. A question that shares a
    word with its passage, or a fact's question ("donde estais"), is answered as before."""
    assert optician.answer("me operais de miopia con laser?", [], "es") == TEXTS.get(
        "no_answer", "es")
    for question, fact in [("cuanto tardan unas progresivas", "progresivas"),
                           ("hacéis graduaciones de la vista gratis?", "gratis"),
                           ("donde estais", "Málaga")]:
        assert fact in optician.answer(question, [], "es"), question


def test_a_word_in_nearly_every_passage_reaches_none_of_them(garage):
    """In a car repair shop's documents "coche" is everywhere: "¿vendéis coches de segunda
    mano?" found "¿Qué pasa si no recojo el coche?" (0.768, its coverage 0.05) and was
    answered with it. A word of the question that the passage also holds still reaches it,
    in Spanish and through its stand-ins in English."""
    for question in ["vendeis coches de segunda mano?", "hacéis lavado de coches a mano?"]:
        assert garage.answer(question, [], "es") == TEXTS.get("no_answer", "es"), question
    assert "15 €" in garage.answer("me venis a buscar el coche a casa?", [], "es")
    assert "12 € por rueda" in garage.answer("how much to fit new tyres", [], "en")


@pytest.mark.parametrize("question, fact", [
    ("cuanto dura la garanita", "2 años"), ("cuanto dura la garnatia", "2 años"),
    ("tengo sanitas, me haceis dsecuento?", "15 %"),
])
def test_a_slip_of_the_thumb_in_the_word_that_matters_still_finds_the_answer(optician,
                                                                            question, fact):
    """A letter dropped or two swapped in the question's key word had the optician's answers
    refused: one in three such questions of the eval sets was lost."""
    assert fact in optician.answer(question, [], "es")


def test_a_slip_in_an_english_question_over_spanish_documents_is_mended_too(tmp_path):
    """The dental clinic's documents are Spanish only: their words cannot mend "cleaing"
    or "cliic", and both questions were refused; the English dictionary mends them."""
    clinic = _eval_bot("clinica", tmp_path)
    for question, right in [("how much is a cleaing", "how much is a cleaning"),
                            ("where is the cliic", "where is the clinic")]:
        assert clinic.answer(question, [], "en") == clinic.answer(right, [], "en") != (
            TEXTS.get("no_answer", "en")), question


@pytest.mark.parametrize("message, kind", [
    ("bye!", "goodbye"), ("Vale!", "thanks"), ("GRACIAS!!", "thanks"), ("👍", "thanks"),
    ("🙏🙏", "thanks"), ("?", "no_answer"), ("...", "no_answer"),
])
def test_a_short_reply_after_an_answer_gets_no_passage(bot, message, kind):
    """Read with the question before it, "bye!", "Vale!" or "👍" found that question's
    passage and sent it again; the encoder reads "bye!" far from "bye", and every emoji alike.
    An emoji acknowledges the answer; a lone "?" asks to rephrase."""
    assert bot.answer(message, AFTER_PORTUGAL, "es") == TEXTS.get(kind, "es")


def test_a_passage_let_in_in_the_other_language_brings_its_translation(bot):
    """"y a Francia?" after a question about Portugal reaches the English shipping costs
    (let off the language gap) before the Spanish ones (held to the higher bar of the
    customer's own language): the answer is the Spanish page, which says the same."""
    answer = bot.answer("y a francia?", AFTER_PORTUGAL, "es")
    assert "Unión Europea" in answer
    assert not answer.startswith(TEXTS.get("other_language", "es"))


def test_where_are_you_and_your_phone_number_find_the_passages_that_give_them(tmp_path):
    """The address sits in the opening paragraph, the number under "Atención al cliente":
    neither shares a word with the question, and each was refused (0.68 to 0.71, under the
    bar) until a passage that gives an address or a phone number was searched by the question
    it answers. "donde esta la tienda" found the payment methods ("en la tienda") ahead of
    the address. A question of where about something else is still refused."""
    shop = _bot_over(tmp_path, {"ferreteria.md": (
        "# Ferretería Lasierra\n\nSomos una ferretería de barrio fundada en 1962. Nos "
        "encontrarás en la Avda. de Madrid 112,\n50010 Zaragoza, junto a la parada del tranvía."
        "\n\n## Horario\nDe lunes a viernes de 9:00 a 13:30 y de 17:00 a 20:00.\n\n"
        "## Envíos\nEnviamos a toda la península en 48 horas. El envío cuesta 5,90 €.\n\n"
        "## Devoluciones\nTienes 30 días para devolver un artículo sin usar con su ticket.\n\n"
        "## Formas de pago\nAceptamos tarjeta y Bizum. En la tienda también efectivo.\n\n"
        "## Atención al cliente\nEscríbenos por WhatsApp o llámanos al 976 33 21 10 en "
        "horario de tienda.\n")})
    for question, language, fact in [("donde estais", "es", "Avda. de Madrid 112"),
                                     ("where are you located", "en", "Avda. de Madrid 112"),
                                     ("donde esta la tienda", "es", "Avda. de Madrid 112"),
                                     ("where is the shop", "en", "Avda. de Madrid 112"),
                                     ("cual es vuestro telefono", "es", "976 33 21 10"),
                                     ("what's your phone number", "en", "976 33 21 10")]:
        assert fact in shop.answer(question, [], language), question
    assert shop.answer("donde hay una farmacia", [], "es") == TEXTS.get("no_answer", "es")


def test_the_towns_name_neither_sets_the_language_nor_lets_a_foreign_passage_in(bot):
    """"Úbeda" is in the Spanish documents' address: it let the Spanish address answer an
    English question about restaurants (let off the language gap, as if a word of the
    question had reached it), and "portugal" made an English message Spanish."""
    assert bot.detector.detect("do u ship to portugal") == "en"
    assert bot.answer("can you recommend a restaurant in ubeda", [], "en") == TEXTS.get(
        "no_answer", "en")
    assert "Portugal" in bot.answer("do u ship to portugal", [], "en")


def test_a_brand_or_an_acronym_is_what_the_question_asks_about(tmp_path):
    """"do you take paypal": "PayPal" is written only as a name, and names had stopped
    reaching a passage, so the one passage that says it was held to the higher bar and the
    question refused. An acronym or a brand (a capital past its first letter) is the
    question's topic; a town's name is still not."""
    shop = _bot_over(tmp_path, {
        "tienda.md": "# Floristería Lirio\n\n## Dónde estamos\nCalle Alfonso I 24, 50003 "
                     "Zaragoza.\n\n## Formas de pago\nAceptamos tarjeta y Bizum. No aceptamos "
                     "pago contra reembolso.\n\n## Envíos\nRepartimos en Zaragoza de lunes a "
                     "sábado por 6 €.\n",
        "abroad.md": "# Sending flowers from abroad\n\nYou can order in English by WhatsApp or "
                     "email. We accept international cards and PayPal\nfor orders from abroad. "
                     "Prices include VAT.\n"})
    assert "PayPal" in shop.answer("do you take paypal", [], "en")
    assert shop.answer("can you recommend a hotel in zaragoza", [], "en") == TEXTS.get(
        "no_answer", "en")


def test_a_passage_holding_every_word_of_a_question_needs_less_of_its_meaning(tmp_path):
    """A section on many things scores low in meaning against a question on one of them:
    "hay aparcamiento?" was refused (0.725 against 0.74) though the guesthouse's section on
    the house, alone, names its car park. A passage that holds what the question says clears
    a bar lowered by the language gap; one holding only some of it does not: the campsite's
    services name a restaurant, its directions the town asked about, and neither is the
    answer."""
    guesthouse, campsite = (_eval_bot(name, tmp_path) for name in ("casarural", "camping"))
    assert "aparcamiento privado" in guesthouse.answer("hay aparcamiento?", [], "es")
    no_answer = TEXTS.get("no_answer", "es")
    assert guesthouse.answer("teneis aparcamiento para autocaravanas?", [], "es") == no_answer
    assert campsite.answer("me recomendais un restaurante en el burgo de osma?", [],
                           "es") == no_answer


def test_a_notice_written_line_by_line_in_two_languages_is_quoted_in_the_customers(tmp_path):
    """Each rule in Spanish, then in English: the notice was one Spanish passage, and an
    English customer got both languages under "I only have this information in Spanish"."""
    studio = _bot_over(tmp_path, {"normas.txt": (
        "NORMAS DEL ESTUDIO / STUDIO RULES\n\n"
        "Llega 10 minutos antes. Una vez empezada la clase, la puerta se cierra.\n"
        "Please arrive 10 minutes early. Once the class has started, the door is closed.\n\n"
        "Hay vestuario con taquillas, pero no tenemos duchas.\n"
        "There are changing rooms with lockers, but we have no showers.\n\n"
        "Los bonos son personales y no se pueden compartir.\n"
        "Class passes are personal and cannot be shared.\n")})
    reply = studio.answer("can i shower after class?", [], "en")
    assert "no showers" in reply and "duchas" not in reply
    assert TEXTS.get("other_language", "en") not in reply
    assert "no tenemos duchas" in studio.answer("hay duchas?", [], "es")


def test_a_paragraph_written_sentence_by_sentence_in_two_languages_is_quoted_in_the_customers(
        tmp_path):
    """A kayak rental's hours, a Spanish sentence and then its English translation in one
    paragraph: an English customer got both under "I only have this information in
    Spanish". A Spanish sentence with an email address in it is not English."""
    rental = _bot_over(tmp_path, {"info.md": (
        "# Kayak Tramuntana\n\n## Horario / Opening hours\n\n"
        "Del 1 de abril al 31 de octubre, todos los días de 9:00 a 19:00. En invierno, "
        "cerrado. *From 1 April to 31 October, every day from 9:00 to 19:00. Closed in "
        "winter.*\n\n## Reservas\n\nReserva por WhatsApp o escribe a reservas@kayaktramuntana"
        ".com con tu nombre y la fecha. Pagas al llegar, con tarjeta o en efectivo.\n")})
    reply = rental.answer("when are you open?", [], "en")
    assert "From 1 April" in reply and "abril" not in reply
    assert TEXTS.get("other_language", "en") not in reply
    assert "1 de abril" in rental.answer("que horario teneis?", [], "es")
    languages = {p.text[:7]: p.language for p in rental.retriever.index.passages}
    assert languages["Reserva"] == "es"


def test_a_line_of_figures_in_a_bilingual_paragraph_goes_with_both_languages(index_cache):
    """A kayak rental's address, in Spanish and then in English, ends with "WhatsApp: 678 45
    12 90 · info@...": the Spanish part lost it to the English one, and a Spanish customer
    was quoted both, the English under "Solo tengo esta información en inglés"."""
    reply = _eval_bot("kayak", index_cache).answer("donde estais exactamente", [], "es")
    assert "678 45 12 90" in reply and "blue wooden hut" not in reply


def test_a_timetable_answers_when_you_open_but_not_when_somewhere_else_does(tmp_path):
    """A florist's hours were a list under *Horario* ("Lunes a viernes: 9:30 a 14:00"):
    "¿a qué hora abrís?" shares no word with it, and found the same-day deliveries ("antes
    de las 12:00") or nothing. A timetable holds the words of the question it answers, as an
    address holds "¿dónde estáis?"; not for a question about a place no document knows."""
    florist = _bot_over(tmp_path, {
        "tienda.md": "# Floristería Lirio Azul\n\n## Horario\n\n- Lunes a viernes: 9:30 a "
                     "14:00 y 17:00 a 20:30\n- Sábados: 9:30 a 14:30\n- Domingos: cerrado\n\n"
                     "## Contacto\n\nTeléfono y WhatsApp: 976 21 43 65.\n",
        "envios.txt": "ENTREGAS\n\nEntregas en el mismo día\nSi haces el pedido antes de las "
                      "12:00, te lo llevamos hoy a cualquier dirección de Zaragoza.\n\n"
                      "Ramos por encargo\nLos ramos de novia se encargan con un mes de "
                      "antelación; te ayudamos a elegir las flores.\n"})
    for question in ("a que hora abris?", "abris los sabados?"):
        assert "9:30" in florist.answer(question, [], "es"), question
    assert florist.answer("a que hora cierra el corte ingles", [], "es") == TEXTS.get(
        "no_answer", "es")


def test_an_address_on_a_street_named_with_al_and_hours_of_every_day_are_found(index_cache):
    """A diving centre is "en la Calle Subida al Faro 4" and open "todos los días de 8:30 a
    18:30": neither read as an address ("al" was no word of a street's name) nor as a
    timetable (no day of the week), so "¿dónde estáis?" was refused and "¿a qué hora abrís?"
    found the boats' departures."""
    centre = _eval_bot("buceo", index_cache)
    for question in ("buenas! donde estais?", "a que hora abris?"):
        assert centre.answer(question, [], "es").startswith("## Horario y contacto"), question


def test_a_longer_message_that_says_it_carries_on_is_read_with_the_question_before(
        index_cache):
    """"y a Huesca me lo podéis enviar?", seven words after a question on deliveries, found
    nothing alone and was refused: only a message of six words or fewer was read with the
    question before it."""
    shop = _eval_bot("heladeria", index_cache)
    history = [("user", "llevais helado a domicilio?"), ("assistant", "Repartimos con Glovo")]
    assert "Fuera de Zaragoza no enviamos" in shop.answer(
        "y a huesca me lo podeis enviar?", history, "es")


def test_a_name_asked_about_reaches_its_passage_one_that_sets_the_scene_does_not(index_cache):
    """"do you take bizum": Bizum, a name to the documents as a town's is, had been left out
    of the words that reach a passage, and "take" alone reached nothing of the Spanish
    payment methods. A name after a preposition of place still only sets the scene."""
    pharmacy = _eval_bot("farmacia", index_cache)
    assert "Bizum" in pharmacy.answer("do you take bizum", [], "en")
    assert pharmacy.answer("whats the best hotel in logroño", [], "en") == TEXTS.get(
        "no_answer", "en")


def test_the_hours_of_a_place_named_with_what_it_is_of_are_that_places(index_cache):
    """"¿a qué hora abre el centro de salud?" found a pharmacy's own hours: its words are the
    documents' ("Servicios de salud", "el centro de Logroño"). A place named with what it is
    of must be reached by the timetable, as an ice cream shop's "tienda del Actur" is."""
    pharmacy = _eval_bot("farmacia", index_cache)
    ice_cream = _eval_bot("heladeria", index_cache)
    assert pharmacy.answer("a que hora abre el centro de salud", [], "es") == TEXTS.get(
        "no_answer", "es")
    assert "9:30 a 14:00" in pharmacy.answer("a que hora abre la farmacia", [], "es")
    assert "17:00 a 23:30" in ice_cream.answer("a que hora abre la tienda del actur", [], "es")


def test_a_long_paragraph_of_many_topics_is_searched_in_short_pieces(index_cache):
    """A repair shop's terms are one paragraph of 1,350 characters: in pieces of 900, the
    time to collect a repaired laptop sat with the warranty, payment and backups, and
    "¿cuánto tiempo tengo para recoger el portátil?" found the next piece instead."""
    shop = _eval_bot("informatica", index_cache)
    reply = shop.answer("cuanto tiempo tengo para recoger el portatil", [], "es")
    assert "tienes tres meses para recogerlo" in reply, reply[:80]


def test_a_small_visitors_page_is_no_translation_of_a_passage_it_does_not_match(index_cache):
    """A repair shop's English page has three passages: each was the closest English one to
    some Spanish passage by the counterpart test's margin, and "where is the shop" quoted
    "No, only computers, laptops and tablets." in place of the Spanish address, as its
    translation. A translation is about as long as its original and keeps its figures."""
    shop = _eval_bot("informatica", index_cache)
    reply = shop.answer("where is the shop", [], "en")
    assert reply.startswith(TEXTS.get("other_language", "en")) and "Santiago 30" in reply
    assert "only computers" in shop.answer("me arreglais el movil?", [], "es")


def test_a_time_of_year_the_documents_do_not_name_is_no_place_elsewhere(index_cache):
    """"¿abrís en invierno?" and "are you open on christmas" name what no document does, as
    "¿a qué hora cierra el Corte Inglés?" does, and were refused as questions about another
    place's hours. A season or a holiday is a time, not a place."""
    ice_cream, bikes = _eval_bot("heladeria", index_cache), _eval_bot("bicis", index_cache)
    assert "16:00 a 21:00" in ice_cream.answer("en invierno abris?", [], "es")
    assert "25 de diciembre" in bikes.answer("are you open on christmas", [], "en")
    assert ice_cream.answer("a que hora cierra el corte ingles", [], "es") == TEXTS.get(
        "no_answer", "es")
    # "what time does the cathedral open" names what no document does: a place elsewhere,
    # in English as in Spanish; "the shop" is the business.
    vet = _eval_bot("veterinaria", index_cache)
    assert vet.answer("what time does the cathedral open", [], "en") == TEXTS.get(
        "no_answer", "en")
    assert "9:30" in vet.answer("what time does the shop open", [], "en")
    # A month or a day is a time too: a kayak rental open "from 1 April to 31 October".
    rental = _eval_bot("kayak", index_cache)
    assert "From 1 April" in rental.answer("are you open in march?", [], "en")


def test_a_tie_with_a_visitors_page_goes_to_the_customers_language_on_the_same_words(
        index_cache):
    """A dry cleaner's English page asks "When are you open?" and its Spanish dossier gives
    the same hours under *Dónde estamos y horario*: "¿a qué hora abrís?" tied them (0.819
    and 0.800), holding as many of its words in each, and got the English page under "Solo
    tengo esta información en inglés"."""
    cleaner = _eval_bot("tintoreria", index_cache)
    answer = cleaner.answer("a que hora abris?", [], "es")
    assert answer.startswith("## Dónde estamos y horario"), answer[:80]


def test_an_offer_of_what_the_documents_never_name_is_refused(index_cache):
    """"¿Vendéis cámaras de fotos?" reached a photo studio's passages through "fotos", and
    was answered with the photos it delivers: what it asks for (the noun it opens with, and
    the kind after "de") is a word the documents never use. A purpose or a kind they do use
    still reaches the answer."""
    studio = _eval_bot("fotografia", index_cache)
    for question in ["vendeis camaras de fotos?", "¿hacéis cursos de fotografía?"]:
        assert studio.answer(question, [], "es") == TEXTS.get("no_answer", "es"), question
    for question, fact in [("haceis fotos de producto?", "15 € por producto"),
                           ("haceis fotos para el pasaporte?", "pasaporte"),
                           ("hacéis sesiones de fotos para perros?", "mascotas")]:
        assert fact in studio.answer(question, [], "es"), question


def _conversation(bot, language: str, *messages: str) -> list[str]:
    """The bot's replies to `messages`, each asked with the conversation so far."""
    history: list[tuple[str, str]] = []
    for message in messages:
        history += [("user", message), ("assistant", bot.answer(message, history, language))]
    return [content for role, content in history if role == "assistant"]


def test_a_follow_up_that_asks_something_else_is_asked_of_the_thing_not_of_its_price(
        index_cache):
    """"¿Y cuánto tardáis?" after "se me ha roto la pantalla del iphone 13, ¿cuánto cuesta
    cambiarla?" asks how long of the screen, not of its price: read with the whole question
    before, "cuánto cuesta" had led a phone repair shop to its FAQ on repair times in
    general, ahead of *Pantalla rota* ("la cambiamos en 1 hora"), and a glazier to its
    emergency call-outs ahead of the times it takes to make a shower screen."""
    shop = _eval_bot("moviles", index_cache)
    assert "1 hora" in _conversation(
        shop, "es", "se me ha roto la pantalla del iphone 13, cuanto cuesta cambiarla?",
        "y cuanto tardais?")[1]
    glazier = _eval_bot("cristaleria", index_cache)
    assert "en 10 a 15 días" in _conversation(
        glazier, "es", "cuanto cuesta una mampara para la ducha", "y cuanto tardais?")[1]


def test_a_follow_up_that_only_asks_how_long_is_asked_of_the_answer_before(index_cache):
    """"¿Cuánto tarda?" after the price of a procedure found the FAQ "¿Cuánto se tarda en
    conseguir cita para la huella?": it names nothing, so it asks about what the answer
    before was about, whose row of the price list gives the usual time. A follow-up that
    names what it asks about, or an answer before that states no such thing, is read as
    before."""
    agency = _eval_bot("extranjeria", index_cache)
    assert "3 a 6 meses" in _conversation(agency, "es", "cuanto cuesta el arraigo",
                                          "cuanto tarda?")[1]
    assert "1 a 2 años" in _conversation(agency, "es", "cuanto cuesta la nacionalidad",
                                         "y cuanto tarda?")[1]
    assert "entre 2 y 6 semanas" in _conversation(
        agency, "es", "cuanto cuesta el arraigo", "cuanto tarda la cita para la huella?")[1]
    office, price = _conversation(agency, "es", "donde esta la oficina", "cuanto cuesta?")
    assert "Alameda Principal" in office and "Alameda Principal" not in price


def test_a_short_follow_up_is_answered_by_the_passage_before_when_it_holds_more_of_it(
        index_cache):
    """"¿Con cuánta antelación hay que reservar?" after a climbing gym's birthday parties,
    whose passage says "Reserva con dos semanas de antelación", found its personal training
    alone ("se reservan en recepción"); "es que era mezclada a color" after a hardware shop's
    returns found its returns again, not the mixed paint they leave out. A price question
    keeps the price rule: "how much does delivery cost" after the English page that says
    the shop delivers still gets the delivery price."""
    gym = _eval_bot("rocodromo", index_cache)
    assert "dos semanas" in _conversation(gym, "es", "haceis cumpleaños?",
                                          "con cuanta antelacion hay que reservar")[1]
    shop = _eval_bot("ferreteria", index_cache)
    assert "pintura mezclada a color" in _conversation(
        shop, "es", "compre una pintura y me sobra, la puedo devolver?",
        "es que era mezclada a color")[1]
    assert "5 €" in _conversation(shop, "en", "do you deliver", "how much does delivery cost")[1]


def test_a_number_in_an_offer_says_which_one_and_a_cuanto_esta_asks_a_price(index_cache):
    """"¿Tenéis pilas del 312?" asks a hearing centre for batteries, of a size its documents
    do not list ("pilas de todos los tamaños"): the number had been read as the kind of
    battery asked for, a word no passage uses, and the offer refused. "¿A cuánto está el
    percebe?" asks a price as "¿cuánto cuesta?" does, and a shellfish shop had refused it."""
    centre = _eval_bot("auditivo", index_cache)
    assert "Vendemos pilas de todos los tamaños" in centre.answer(
        "teneis pilas del 312?", [], "es")
    shop = _eval_bot("marisco", index_cache)
    assert "percebes desde 60 € el kilo" in shop.answer("a cuanto esta el percebe?", [], "es")


def test_a_recommendation_asked_with_the_thing_first_is_asked_as_an_offer_to_recommend(
        index_cache):
    """"¿Qué otorrino me recomendáis?" asks a hearing centre to recommend a doctor, which
    it never does: its passage on public funding ("con receta del otorrino") had answered.
    So had a mattress shop's mattresses for "¿me podéis recomendar un fisio para la
    espalda?". What the documents do recommend is still answered ("¿qué bombín me
    recomendáis?" at a locksmith's)."""
    centre = _eval_bot("auditivo", index_cache)
    assert centre.answer("que otorrino me recomendais", [], "es") == TEXTS.get(
        "no_answer", "es")
    shop = _eval_bot("colchones", index_cache)
    assert shop.answer("me podeis recomendar un fisio para la espalda", [], "es") == TEXTS.get(
        "no_answer", "es")
    locksmith = _eval_bot("cerrajeria", index_cache)
    assert "antibumping" in locksmith.answer(
        "me han intentado entrar en casa, que bombin me recomendais", [], "es")


def test_a_question_that_states_an_age_is_answered_by_what_is_for_that_age(index_cache):
    """"Mi hijo tiene 14, ¿qué aprendería?" had got a robotics academy's English page; its
    Spanish levels say "Maker (12-16 años)". "¿Hacéis ferratas? mi hijo tiene 13" was
    refused by a mountain guide whose via ferrata is "desde 12 años". An age says nothing of
    a thing the documents never offer: a nursery's summer camps for six-year-olds."""
    academy = _eval_bot("robotica", index_cache)
    assert "Maker (12-16 años)" in academy.answer("mi hijo tiene 14, que aprenderia?", [], "es")
    guide = _eval_bot("guias", index_cache)
    assert "Desde 12 años" in guide.answer("haceis ferratas? mi hijo tiene 13", [], "es")
    nursery = _eval_bot("guarderia", index_cache)
    assert nursery.answer("haceis campamentos de verano para niños de 6 años?", [], "es") == (
        TEXTS.get("no_answer", "es"))


def test_a_town_no_document_names_is_asked_of_the_towns_the_business_works_in(index_cache):
    """"¿Trabajáis en Murcia?" asks an installer in Alicante whether it works there: its
    list of towns, "Más lejos no trabajamos", answers, though it never names Murcia. It had
    been refused, the town weighing as a word no passage holds."""
    installer = _eval_bot("climatizacion", index_cache)
    assert "Más lejos no trabajamos" in installer.answer("trabajais en murcia?", [], "es")


def test_the_verb_a_customer_asks_with_breaks_a_near_tie(index_cache):
    """The verb of "¿os lleváis el cristal roto?" says what is asked of a glazier; the broken
    glass is only what about. Its emergencies ("si se te ha roto un cristal") had come 0.037
    ahead of "Nos llevamos el cristal viejo", and a bookshop's gift vouchers ahead of its
    gift wrapping for "¿me lo envolvéis para regalo?"."""
    glazier = _eval_bot("cristaleria", index_cache)
    assert glazier.answer("os llevais el cristal roto?", [], "es").startswith(
        "## Recogida de escombros")
    bookshop = _eval_bot("libreria", index_cache)
    assert "envolvemos para regalo gratis" in bookshop.answer(
        "me lo envolveis para regalo?", [], "es").lower()


def test_the_business_s_own_counter_is_no_place_elsewhere(index_cache):
    """"When is the box office open", asked of a theatre whose documents are Spanish and say
    *taquilla*: "box" and "office" are words they never use, nor anything like them, and the
    box office had been read as a place elsewhere, whose hours no passage gives."""
    theatre = _eval_bot("teatro", index_cache)
    assert "de martes a sábado de 11:00 a 14:00" in theatre.answer(
        "when is the box office open", [], "en")


def test_a_business_with_no_street_is_found_where_its_documents_place_it(index_cache):
    """A ski hire shop "a 50 metros de la telecabina", with no street in its documents:
    "¿dónde está la tienda?" and "where are you" were refused."""
    shop = _eval_bot("esqui", index_cache)
    assert "telecabina" in shop.answer("donde esta la tienda", [], "es")
    assert "Borreguiles" in shop.answer("where are you", [], "en")


def test_what_a_spanish_offer_asks_for():
    """The noun, and the kind after "de", "para", "sin" or "con", in each alternative; not
    an adjective, a place, a purpose or a thing."""
    assert _kinds_asked("cámaras de fotos") == [{"camaras", "fotos"}]
    assert _kinds_asked("unas fundas y protectores de pantalla") == [
        {"fundas"}, {"protectores", "pantalla"}]
    assert _kinds_asked("masajes relajantes") == [{"masajes"}]
    assert _kinds_asked("envíos a Canarias") == [{"envios"}]
    assert _kinds_asked("tienda física para probarme la ropa") == [{"tienda"}]
    assert _kinds_asked("furgonetas sin conductor") == [{"furgonetas", "conductor"}]
    assert _kinds_asked("cosas veganas") == [{"veganas"}]
    assert _kinds_asked("opciones sin gluten") == [{"gluten"}]
    assert _kinds_asked("talleres para despedidas de soltera") == [{"talleres", "despedidas"}]
    assert _kinds_asked("apartamentos en el centro de Marbella") == [{"apartamentos"}]
    assert _kinds_asked("con la declaración de la renta") == [{"declaracion"}]
    # "De" and an article or a possessive say whose or which one, not what kind.
    assert _kinds_asked("una vidriera antigua de la iglesia") == [{"vidriera"}]
    assert _kinds_asked("el mando de la play") == [{"mando"}]
    assert _kinds_asked("la ropa de mi hijo") == [{"ropa"}]
    assert _kinds_asked("los zapatos de nuestro hijo") == [{"zapatos"}]
    assert _kinds_asked("pilas del 312") == [{"pilas"}]


def test_an_offer_of_a_known_thing_is_not_refused_for_whose_it_is(index_cache):
    """"¿Arregláis el mando de la play?" asks a phone and console repair shop to repair a
    controller, which its documents name; it was refused because they never write "play",
    read as the kind of controller."""
    shop = _eval_bot("moviles", index_cache)
    assert "PlayStation" in shop.answer("arreglais el mando de la play?", [], "es")


PET_SHOP = """# Tienda de Animales Bigotes

Somos una tienda de animales en la calle Mayor 12 de Valladolid, desde 2004.

## ¿Vendéis pienso?
Sí. Vendemos pienso para perros y gatos de varias marcas, también sin cereales, y pienso
veterinario con receta. Si compras un saco de 12 kg te lo llevamos a casa gratis.

## Peluquería canina
Bañamos, cortamos el pelo y cortamos las uñas a perros de todos los tamaños. Pide cita por
WhatsApp: un baño cuesta desde 20 €.

## Accesorios
Tenemos correas, collares, camas, transportines y juguetes para perros y gatos.

## Horario
De lunes a sábado de 10:00 a 14:00 y de 17:00 a 20:30. Los domingos cerramos.
"""


def test_a_question_whether_the_business_offers_something_needs_a_passage_it_reaches(
        tmp_path):
    """"¿Vendéis peces?" was answered with "¿Vendéis pienso?" (0.744): close in meaning, but
    no word of what is asked for reaches it. Asked for what a passage holds, in either
    language, the business still answers."""
    shop = _bot_over(tmp_path, {"tienda.md": PET_SHOP})
    assert shop.answer("vendeis peces?", [], "es") == TEXTS.get("no_answer", "es")
    for question, language, fact in [
            ("teneis pienso sin cereales?", "es", "sin cereales"),
            ("vendeis correas?", "es", "correas"),
            ("cortais las uñas a los gatos?", "es", "uñas"),
            ("hola, teneis transportines para gatos?", "es", "transportines"),
            ("do you have cat toys", "en", "juguetes"),
            ("do you sell cat food", "en", "pienso para perros y gatos")]:
        assert fact in shop.answer(question, [], language), question


def test_the_time_of_a_thing_is_answered_by_a_passage_that_states_a_time(tmp_path):
    """"¿a qué hora cierra el mercado de Delicias?" was answered with a shop's address,
    "junto al mercado de Delicias", which states no time; "¿a qué hora cierra el tranvía?"
    with the shop's own hours, which do not name the tram. The business's hours still answer
    "¿a qué hora abre el restaurante?", though they never say "restaurante"."""
    tavern = _bot_over(tmp_path, {"casa-pepa.md": (
        "# Casa Pepa\n\nCasa Pepa es un restaurante de cocina aragonesa en Zaragoza. Cocinamos "
        "con producto de la huerta y carne de la comarca.\n\n"
        "## Dónde estamos\n\nCalle Delicias 45, 50017 Zaragoza, junto al mercado de Delicias. "
        "La parada del tranvía Plaza Huesca está a dos minutos.\n\n"
        "## Horario\n\nAbrimos de martes a domingo de 13:00 a 16:30 y de 20:30 a 23:30. Los "
        "lunes cerramos.\n\n"
        "## Reservas\n\nReservamos mesa por teléfono o por WhatsApp. Para grupos de más de "
        "diez personas pedimos una señal de 50 €.\n")})
    no_answer = TEXTS.get("no_answer", "es")
    assert tavern.answer("a que hora cierra el mercado de delicias", [], "es") == no_answer
    assert tavern.answer("a que hora pasa el ultimo tranvia?", [], "es") == no_answer
    assert "13:00 a 16:30" in tavern.answer("a que hora abre el restaurante", [], "es")
    assert "Calle Delicias 45" in tavern.answer("donde estais?", [], "es")


def test_the_price_of_a_thing_the_documents_never_name_is_refused(tmp_path):
    """"¿cuánto cuesta un taxi desde el aeropuerto?" was answered with a riding school's
    first ride, which names the airport: a taxi is priced elsewhere, and so is what the
    documents never name, or what is sold at a place they never name. A slip in the thing,
    an action, a month and a thing they price still find their prices."""
    school = _bot_over(tmp_path, {"hipica.md": (
        "# Hípica El Roble\n\nCentro ecuestre en Alhaurín el Grande, a 25 minutos del "
        "aeropuerto de Málaga. Desde el aeropuerto, un taxi tarda media hora.\n\n"
        "## Bautismo a caballo\n\nPara quien no ha montado nunca: 30 minutos con un monitor y "
        "el caballo a la cuerda. Cuesta 25 €.\n\n"
        "## Clases\n\nClase de grupo de una hora: 30 €. Bono de diez clases: 250 €. Herrar "
        "tu caballo con nuestro herrero cuesta 60 €.\n\n"
        "## Pupilaje\n\nCuidamos tu caballo en nuestras cuadras: box, comida y paseo diario "
        "por 380 € al mes.\n")})
    no_answer = TEXTS.get("no_answer", "es")
    for question in ["cuanto cuesta un taxi desde el aeropuerto",
                     "cuanto cuesta la gasolina hoy?",
                     "cuanto cuesta una clase de grupo en el carrefour"]:
        assert school.answer(question, [], "es") == no_answer, question
    for question, price in [("cuanto cuesta el bautismo a caballo en agosto", "25 €"),
                            ("cuanto cuesta el bono de clasez", "250 €"),
                            ("cuanto cuesta herrar un caballo", "60 €"),
                            ("y cuanto cuesta el pupilaje?", "380 €")]:
        assert price in school.answer(question, [], "es"), question


def test_a_job_question_is_answered_only_by_a_passage_about_jobs(tmp_path):
    """"¿buscáis panadero?" was answered with a bakery's introduction ("Hacemos el pan cada
    noche"): only a passage about working there answers a question about it, and a business
    whose documents have one still answers with it."""
    introduction = ("# Horno San Vicente\n\nPanadería familiar en Burgos desde 1962. Hacemos "
                    "el pan cada noche con masa madre, y la bollería cada mañana.\n\n"
                    "## Encargos\n\nTartas y roscones por encargo, con dos días de antelación. "
                    "Para encargos de más de 50 € pedimos una señal del 30 %.\n")
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    bakery = _bot_over(tmp_path / "one", {"horno.md": introduction})
    for question, language in [("buscais panadero?", "es"), ("are you hiring?", "en"),
                               ("buscais gente para el verano? os mando mi curriculum", "es")]:
        assert bakery.answer(question, [], language) == TEXTS.get("no_answer", language)
    hiring = _bot_over(tmp_path / "two", {"horno.md": introduction + (
        "\n## Trabaja con nosotros\n\nBuscamos personal de obrador para el turno de noche. "
        "Manda tu currículum a empleo@hornosanvicente.es.\n")})
    for question, language in [("buscais panadero?", "es"), ("are you hiring?", "en")]:
        assert "empleo@hornosanvicente.es" in hiring.answer(question, [], language), question
    # What the business needs of a customer is no job: "¿necesitáis señal?" asks a deposit.
    assert "señal del 30 %" in bakery.answer("necesitais señal?", [], "es")


def test_an_offer_is_answered_by_a_passage_that_deals_in_it_the_way_asked(tmp_path):
    """"¿vendéis guitarras?" was answered with a music school's classes of guitar, and
    "¿arregláis pianos?" with its advice on a piano at home: a passage that names the thing
    but neither sells (or says what the shop has), rents nor repairs does not answer an
    offer to. A shop's list of what it has, a passage titled with the thing, and one that
    says it sells still answer."""
    school = _bot_over(tmp_path, {"escuela.md": (
        "# Escuela de Música Allegro\n\nEscuela de música en Gijón para niños desde 4 años y "
        "adultos. Clases de piano, guitarra, violín, batería y canto.\n\n"
        "## ¿Hay que tener instrumento en casa?\n\nPara piano basta con un teclado de 88 "
        "teclas. La guitarra y el violín se los prestamos a los alumnos el primer trimestre.\n\n"
        "## Tienda\n\nEn recepción tenemos cuerdas, púas, atriles y cuadernos de música.\n\n"
        "## Partituras\n\nVendemos los libros de partituras de cada curso a 12 €.\n\n"
        "## Metrónomos\n\nUn metrónomo de pinza cuesta 15 €; el digital, 25 €.\n")})
    no_answer = TEXTS.get("no_answer", "es")
    for question in ["vendeis guitarras?", "arreglais pianos?", "alquilais baterias?"]:
        assert school.answer(question, [], "es") == no_answer, question
    for question, fact in [("vendeis cuerdas de guitarra?", "tenemos cuerdas"),
                           ("vendeis partituras?", "12 €"),
                           ("vendeis metronomos?", "15 €"),
                           ("me prestais una guitarra?", "se los prestamos")]:
        assert fact in school.answer(question, [], "es"), question


def test_a_shop_prices_what_it_sells_in_lists_that_never_say_so(tmp_path):
    """A garden centre's *Huerto* ("Semillas, abono orgánico...", with its prices) never
    says it sells seeds, and "¿vendéis semillas?" had been refused: where the documents say
    the business sells, a passage that states prices and holds the thing answers."""
    centre = _bot_over(tmp_path, {"vivero.md": (
        "# Vivero Los Almendros\n\nVivero y centro de jardinería en Murcia, desde 1984.\n\n"
        "## Huerto\n\nPlantel de tomate, pimiento y lechuga: 0,40 € la planta o 3,50 € la "
        "bandeja de 12. Semillas, abono orgánico y riego por goteo.\n\n"
        "## Trasplantes\n\nSi compras la maceta y la tierra aquí, te trasplantamos la planta "
        "gratis.\n\n"
        "## Jardines\n\nDiseñamos jardines y terrazas e instalamos césped artificial. "
        "Mantenimiento desde 60 € al mes.\n")})
    assert "Semillas" in centre.answer("vendeis semillas?", [], "es")
    assert centre.answer("vendeis cortacespedes?", [], "es") == TEXTS.get("no_answer", "es")


def test_what_the_customer_brings_is_not_what_the_business_sells(tmp_path):
    """A padel club's "Es obligatorio jugar con zapatillas de pádel" answered "¿vendéis
    zapatillas de pádel?", a camp's packing list "do you sell hiking boots": a passage that
    tells the customer what to bring or wear, and offers nothing, sells none of it. What the
    club rents, and says it rents, is still answered."""
    club = _bot_over(tmp_path, {"club.md": (
        "# Club de Pádel La Red\n\nSeis pistas cubiertas en Logroño, abiertas todos los días "
        "de 8:00 a 23:00.\n\n"
        "## Ropa y calzado\n\nEs obligatorio jugar con zapatillas de pádel o de suela lisa y "
        "con camiseta. Trae botas de montaña si vienes a la ruta del sábado.\n\n"
        "## Material\n\nAlquilamos palas a 3 € el partido y vendemos tubos de bolas a 6 €.\n\n"
        "## Clases\n\nClases para adultos y niños, en grupos de cuatro, de lunes a jueves. La "
        "clase suelta cuesta 15 €.\n")})
    no_answer = TEXTS.get("no_answer", "es")
    assert club.answer("vendeis zapatillas de padel?", [], "es") == no_answer
    assert club.answer("do you sell hiking boots", [], "en") == TEXTS.get("no_answer", "en")
    assert "3 € el partido" in club.answer("alquilais palas?", [], "es")
    assert "obligatorio" in club.answer("hay que llevar zapatillas especiales?", [], "es")


def test_an_offer_is_not_answered_by_a_passage_that_deals_in_the_thing_another_way(tmp_path):
    """"¿vendéis zapatos?" got a shoe repairer's price list of repairs, "¿reparáis
    autocaravanas?" a camper rental's "Alquilamos autocaravanas": the thing is there, dealt
    in another way than asked. Asked the way the passage deals in it, it is answered."""
    cobbler = _bot_over(tmp_path, {"zapateria.md": (
        "# Zapatería Remendón\n\nCalle Mayor 12, 26001 Logroño. Abrimos de lunes a viernes de "
        "9:30 a 13:30 y de 17:00 a 20:00.\n\n"
        "## Arreglos\n\nArreglamos zapatos, botas y bolsos de piel en el día: tapas de tacón "
        "8 €, media suela 22 €, cremallera de bota 25 €.\n\n"
        "## Alquiler de furgonetas\n\nAlquilamos furgonetas de 9 m³ por días, a 60 € el día "
        "con 150 km incluidos.\n")})
    no_answer = TEXTS.get("no_answer", "es")
    assert cobbler.answer("vendeis zapatos?", [], "es") == no_answer
    assert cobbler.answer("reparais furgonetas?", [], "es") == no_answer
    assert "media suela 22 €" in cobbler.answer("arreglais zapatos?", [], "es")
    assert "60 € el día" in cobbler.answer("alquilais furgonetas?", [], "es")


def test_the_hours_of_a_landmark_or_of_a_place_no_document_names_are_another_places(
        tmp_path):
    """A bakery "a dos minutos de la Catedral" gives its hours in the same passage, and
    answered "¿a qué hora abre la catedral?" with them, in Spanish and in English. A place
    the documents place the business by is somewhere else, and so is one they never name."""
    bakery = _bot_over(tmp_path, {"obrador.md": (
        "# Horno San Vicente\n\nPanadería familiar en Burgos desde 1962, con masa madre.\n\n"
        "## Tienda del centro\n\nCalle San Lorenzo 14, 09003 Burgos, a dos minutos de la "
        "Catedral.\nDe lunes a sábado de 8:00 a 14:30 y de 17:00 a 20:30.\n\n"
        "## Encargos\n\nLas tartas se encargan con 48 horas de antelación por WhatsApp.\n")})
    no_answer = TEXTS.get("no_answer", "es")
    assert bakery.answer("a que hora abre la catedral", [], "es") == no_answer
    assert bakery.answer("a que hora abre el museo del libro", [], "es") == no_answer
    assert bakery.answer("what time does the cathedral open", [], "en") == TEXTS.get(
        "no_answer", "en")
    assert "8:00 a 14:30" in bakery.answer("a que hora abre la tienda del centro", [], "es")
    assert "8:00 a 14:30" in bakery.answer("a que hora abris?", [], "es")


def test_where_a_train_goes_is_part_of_the_thing_whose_time_is_asked(tmp_path):
    """A railway museum runs its own steam train, and "what time is the train to santiago"
    was answered with its timetable to Villablino: where a train goes, in English as in
    Spanish, is part of what is asked, and a place no document names is somewhere else."""
    museum = _bot_over(tmp_path, {"museo.md": (
        "# Museo del Ferrocarril\n\nMuseo del tren en la antigua estación de Ponferrada: "
        "locomotoras de vapor y la historia del tren minero.\n\n"
        "## Horario\n\nDe martes a sábado de 10:00 a 14:00 y de 16:30 a 19:30.\n\n"
        "## Tren turístico\n\nEl tren de vapor sale los domingos a las 11:00 hacia "
        "Villablino. El billete de ida y vuelta cuesta 18 €.\n\n"
        "## Maquetas\n\nLa sala de maquetas tiene un tren en miniatura que funciona cada "
        "hora.\n")})
    assert museum.answer("what time is the train to santiago", [], "en") == TEXTS.get(
        "no_answer", "en")
    assert museum.answer("a que hora sale el tren a santiago", [], "es") == TEXTS.get(
        "no_answer", "es")
    assert "11:00" in museum.answer("what time does the train to villablino leave", [], "en")


def test_a_part_of_the_day_is_held_by_a_timetable_that_gives_a_time_in_it(tmp_path):
    """"¿abrís los viernes por la tarde?" shared only "viernes" with an accountant's
    timetable, which never says "tarde", and was refused; "do you have evening classes"
    found the school's holidays. A timetable holds the parts of the day its times fall
    in, and only those."""
    office = _bot_over(tmp_path, {"asesoria.md": (
        "# Asesoría Prado\n\nAsesoría fiscal y laboral para autónomos y pymes en Albacete.\n\n"
        "## Horario\n\nDe lunes a jueves de 9:00 a 14:00 y de 16:00 a 19:00. Viernes de 8:00 "
        "a 15:00.\n\n"
        "## Renta\n\nLa campaña de la renta empieza en abril. La declaración individual cuesta "
        "60 €.\n\n"
        "## Cuotas\n\nLa cuota mensual de autónomos es de 45 € e incluye los impuestos "
        "trimestrales.\n")})
    assert "Viernes de 8:00" in office.answer("abris los viernes por la tarde?", [], "es")
    assert "Viernes de 8:00" in office.answer("are you open in the afternoon?", [], "en")
    assert office.answer("abris por la noche?", [], "es") == TEXTS.get("no_answer", "es")


def test_a_timetable_of_the_twelve_hour_clock_holds_its_parts_of_the_day_too(tmp_path):
    """An English page that writes "9am to 2pm" was read for no part of the day: its
    times are hours of the 12-hour clock, "2pm" is 14 and "8pm" is 20."""
    school = _bot_over(tmp_path, {"english.md": (
        "# Sol Language School\n\nSpanish courses for foreigners in Alicante, in small "
        "groups of up to eight students.\n\n"
        "## Opening hours\n\nMonday to Thursday 9am to 2pm. Friday 9 a.m. to 1 p.m.\n\n"
        "## Courses\n\nIntensive course: four hours a day, 190 € a week. Private lessons: "
        "35 € an hour.\n\n"
        "## Accommodation\n\nWe find you a room with a host family or in a shared flat, "
        "from 120 € a week.\n")})
    assert "9am to 2pm" in school.answer("are you open in the afternoon?", [], "en")
    assert "9am to 2pm" in school.answer("are you open in the morning?", [], "en")
    assert school.answer("are you open at night?", [], "en") == TEXTS.get("no_answer", "en")


def test_a_holiday_asked_by_its_name_finds_the_timetable_that_gives_its_date(tmp_path):
    """"¿abrís el día de Navidad?" found a bakery's Christmas hampers: its timetable says
    "El 25 de diciembre y el 1 de enero cerramos", never "Navidad"."""
    bakery = _bot_over(tmp_path, {"obrador.md": (
        "# Horno San Vicente\n\nPanadería familiar en Burgos desde 1962.\n\n"
        "## Festivos\n\nLos festivos abrimos solo por la mañana, en la tienda del centro. El "
        "25 de diciembre y el 1 de enero cerramos las dos tiendas.\n\n"
        "## Cestas de Navidad\n\nEn diciembre preparamos cestas con pan, dulces típicos y vino "
        "de la Ribera del Duero, desde 35 €, para regalar a clientes o empleados.\n\n"
        "## Encargos\n\nLas tartas se encargan con 48 horas de antelación por WhatsApp.\n")})
    assert bakery.answer("abris el dia de navidad?", [], "es").startswith("## Festivos")
    assert "25 de diciembre" in bakery.answer("are you open on christmas day", [], "en")
    assert "35 €" in bakery.answer("teneis cestas de navidad?", [], "es")


def test_a_recommendation_is_answered_by_a_passage_that_recommends(tmp_path):
    """"me recomendáis una empresa de limpieza?" got a storage firm's deposit, returned
    "al dejar el trastero vacío y limpio"; "can you recommend a good English school in
    Madrid" a letting agency's page for foreigners. What the documents do recommend is
    still answered."""
    storage = _bot_over(tmp_path, {"trasteros.md": (
        "# Trasteros La Cartuja\n\nTrasteros de 2 a 15 m² en Zaragoza, con acceso de 7:00 a "
        "22:00 todos los días.\n\n"
        "## Fianza\n\nPedimos una fianza de un mes, que te devolvemos al dejar el trastero "
        "vacío y limpio.\n\n"
        "## Mudanzas\n\nNo hacemos mudanzas. Si necesitas una empresa de mudanzas, te "
        "recomendamos Mudanzas Ebro, que hace un 10 % de descuento a nuestros clientes.\n\n"
        "## Seguro\n\nCada trastero tiene un seguro incluido que cubre hasta 1.500 €. Si "
        "guardas algo de más valor, amplía la cobertura con tu aseguradora.\n\n"
        "## English\n\nWe rent storage units to foreigners living in Zaragoza: our staff "
        "speak English and French.\n")})
    assert storage.answer("me recomendais una empresa de limpieza?", [], "es") == TEXTS.get(
        "no_answer", "es")
    assert storage.answer("can you recommend a good english school", [], "en") == TEXTS.get(
        "no_answer", "en")
    assert "Mudanzas Ebro" in storage.answer(
        "me recomendais una empresa de mudanzas?", [], "es")
    # Named whole, in a passage about something else, it is not recommended.
    assert storage.answer("me recomendais una aseguradora?", [], "es") == TEXTS.get(
        "no_answer", "es")


def test_a_coach_companys_buses_are_its_own_and_the_first_one_is_no_place(tmp_path):
    """"¿a qué hora sale el primer autobús a Madrid?" was refused by a coach company: the
    time of public transport had to be asked of a passage that names it (its timetable
    does not say "autobús"), and "primer", a word of no document, read as a place
    elsewhere. Buses a business names across its documents are its own."""
    coaches = _bot_over(tmp_path, {"lineas.md": (
        "# Autocares Sierra Norte\n\nEmpresa de autobuses de Segovia: líneas regulares a "
        "Madrid y a los pueblos de la sierra.\n\n"
        "## Estación\n\nSalimos de la estación de autobuses de Segovia, dársenas 4 y 5. La "
        "taquilla abre de 6:30 a 21:00.\n\n"
        "## Línea Segovia - Madrid\n\nDe lunes a viernes, salidas de Segovia cada hora de "
        "7:15 a 21:15. Billete sencillo: 8,90 €.\n\n"
        "## Objetos perdidos\n\nLo que se encuentra en los autobuses se guarda un mes en la "
        "taquilla.\n")})
    assert "7:15 a 21:15" in coaches.answer("a que hora sale el primer autobus a madrid", [],
                                             "es")
    assert coaches.answer("a que hora sale el tren a madrid", [], "es") == TEXTS.get(
        "no_answer", "es")


def test_which_is_the_best_is_answered_by_a_passage_that_recommends(tmp_path):
    """"whats the best tapas bar in burgos" got a bakery's breakfasts for offices, which
    serve "bares"; "¿qué compañía de luz es más barata?" an electrician's emergencies "sin
    luz". Which is the best is a recommendation: what the documents recommend answers it."""
    bakery = _bot_over(tmp_path, {"horno.md": (
        "# Horno San Vicente\n\nPanadería en Burgos desde 1962, con masa madre.\n\n"
        "## Para bares y empresas\n\nServimos pan a bares, restaurantes y cafeterías de "
        "Burgos cada mañana, y bandejas de desayuno para oficinas desde 3,50 € por persona.\n\n"
        "## Sin luz\n\nSi hay un corte de luz en el barrio, la tienda cierra hasta que vuelva "
        "la electricidad.\n\n"
        "## Cuándo venir\n\nTe recomendamos venir entre semana por la mañana: los sábados hay "
        "cola y a partir de las 13:00 quedan pocos panes.\n")})
    assert bakery.answer("whats the best tapas bar in burgos", [], "en") == TEXTS.get(
        "no_answer", "en")
    assert bakery.answer("que compañia de luz es mas barata", [], "es") == TEXTS.get(
        "no_answer", "es")
    assert "entre semana" in bakery.answer("cual es el mejor momento para venir", [], "es")


def test_having_to_do_a_thing_asks_about_the_thing(tmp_path):
    """"¿tengo que ir en ayunas?" found a laboratory's "¿Puedo ir si tengo fiebre?", which
    holds "tengo" and "ir", ahead of the passage on fasting: "tener que" says a thing must
    be done, as "poder" says it may, and the thing is what is asked about. "Tengo fiebre"
    still says what the customer has."""
    faq = _bot_over(tmp_path, {"preguntas.md": (
        "# Preguntas frecuentes\n\n"
        "## ¿Puedo ir si tengo fiebre?\n\nSí, pero avísanos al llegar y te haremos la "
        "extracción en una sala aparte.\n\n"
        "## Preparación\n\nPara la mayoría de los análisis de sangre hay que venir en ayunas "
        "de 8 horas; puedes beber agua.\n\n"
        "## ¿Dónde consigo el bote para la orina?\n\nTe lo damos gratis en el laboratorio, o "
        "lo compras en cualquier farmacia.\n")})
    first = faq.answer("tengo que ir en ayunas?", [], "es").split("\n\n")[0]
    assert "ayunas de 8 horas" in first
    first = faq.answer("tengo fiebre, puedo ir igual?", [], "es").split("\n\n")[0]
    assert "sala aparte" in first


def test_a_price_list_answers_a_price_question_in_words_its_documents_never_write(tmp_path):
    """A spa's documents give prices as a list ("Circuito de aguas: 32 €") and never write
    "cuesta" or "cuánto": "cuanto cuesta el circuito" was refused, for the share of its
    words no passage holds. A passage that states a price holds what a price question asks
    with; what the documents do not sell is still refused."""
    spa = _bot_over(tmp_path, {"spa.md": (
        "# Agua Clara Spa\n\nSpa urbano en el centro de Bilbao. Circuito de aguas con "
        "piscina de chorros, jacuzzi, sauna y baño turco.\n\n"
        "## El circuito\n\nEl circuito dura 90 minutos. Los turnos empiezan cada media hora "
        "y las plazas son limitadas, por eso recomendamos reservar. El agua de la piscina "
        "está a 34 grados.\n\n"
        "## Normas\n\nEs obligatorio el uso de gorro de baño y chanclas en todo el circuito. "
        "Si no los traes, los vendemos en recepción.\n\n"
        "## Horario\n\nDe lunes a viernes de 10:00 a 22:00; sábados, domingos y festivos de "
        "9:00 a 22:00.\n\n"
        "## Precios\n\nCircuito de aguas (90 minutos): 32 € entre semana, 38 € fines de "
        "semana y festivos.\n\n"
        "## Bonos\n\nBono de 5 circuitos: 140 €, válido 6 meses, se puede compartir.\n\n"
        "## Masajes\n\nMasaje relajante de 50 minutos: 60 €. Masaje con piedras calientes de "
        "75 minutos: 85 €.\n")})
    assert "32 €" in spa.answer("cuanto cuesta el circuito", [], "es")
    assert spa.answer("cuanto cuesta la gasolina", [], "es") == TEXTS.get("no_answer", "es")


def test_a_question_of_a_name_and_an_asking_verb_is_about_the_name(tmp_path):
    """"¿trabajáis en Mairena?" was refused by a cleaning firm whose introduction lists the
    towns it works in: names are set aside from a question's words (a town does not make
    "the best hotel in Valencia" a question for the business), and "trabajáis", which no
    document uses, was all that was left. A town it does not list is still refused."""
    firm = _bot_over(tmp_path, {"servicios.md": (
        "# Limpiezas Brillo\n\nEmpresa de limpieza de casas y oficinas en Sevilla capital, "
        "Dos Hermanas, Mairena del Aljarafe y Tomares. Todas nuestras limpiadoras están "
        "dadas de alta y tenemos seguro de responsabilidad civil.\n\n"
        "## Limpieza periódica\n\nUna limpiadora va a tu casa una vez a la semana o cada dos "
        "semanas. El mínimo son 2 horas por visita.\n\n"
        "## Productos\n\nLlevamos todos los productos y utensilios, también la aspiradora.\n\n"
        "## Tarifas\n\nLimpieza periódica: 15 € la hora. Desplazamiento a Dos Hermanas, "
        "Mairena y Tomares: 5 € por visita.\n")})
    assert "Mairena del Aljarafe" in firm.answer("trabajais en mairena?", [], "es")
    assert firm.answer("trabajais en huelva?", [], "es") == TEXTS.get("no_answer", "es")
    # Where the customer lives, said first, sets the scene as well.
    assert "Mairena del Aljarafe" in firm.answer(
        "vivo en mairena, llegais hasta aqui?", [], "es")
    assert firm.answer("vivo en huelva, llegais hasta aqui?", [], "es") == TEXTS.get(
        "no_answer", "es")


# A repair service's page, as it writes it.
REPAIR_SERVICE = (
    "# Servitec: reparación de electrodomésticos\n\n"
    "Reparamos electrodomésticos a domicilio en Zaragoza capital y en los pueblos a "
    "menos de 30 km (Utebo, Cuarte, La Muela, Villanueva de Gállego y alrededores). "
    "Somos servicio técnico independiente: no somos el servicio oficial de ninguna "
    "marca.\n\n"
    "## Qué reparamos\n\n"
    "Lavadoras, lavavajillas, secadoras, frigoríficos, hornos, vitrocerámicas y "
    "placas de inducción, de cualquier marca. No reparamos microondas, aire "
    "acondicionado ni calderas de gas: para la caldera necesitas un instalador de "
    "gas autorizado.\n\n"
    "## Cómo pedir una visita\n\n"
    "Llámanos al 976 44 21 90 o escríbenos por WhatsApp con la marca, el modelo y "
    "qué le pasa al aparato. Te damos cita normalmente en 24-48 horas laborables. El "
    "técnico te avisa por teléfono media hora antes de llegar.\n\n"
    "## Horario\n\n"
    "Atendemos el teléfono de lunes a viernes de 8:00 a 19:00 y los sábados de 9:00 "
    "a 13:00. Las visitas se hacen de lunes a viernes, por la mañana (9:00-14:00) o "
    "por la tarde (16:00-19:00). Los domingos y festivos no hay servicio.\n\n"
    "## Piezas\n\n"
    "Si hace falta una pieza que no llevamos en la furgoneta, la pedimos y volvemos "
    "a montarla sin cobrar otro desplazamiento. Las piezas suelen tardar de 3 a 7 "
    "días. Usamos piezas originales siempre que el fabricante las sirve.\n\n"
    "## Pago\n\n"
    "Se paga al terminar la reparación, con tarjeta, Bizum o en efectivo. Te dejamos "
    "la factura por correo electrónico.\n")


def test_a_question_of_a_town_the_documents_name_is_let_off_the_gap_by_the_town(tmp_path):
    """"vivo en Utebo, ¿llegáis hasta aquí?" read as "en Utebo, ¿llegáis?" scored 0.713
    against a repair service's introduction, which names Utebo, under a bar of 0.74: a
    passage that holds what a question says by itself is let off the language gap, and what
    a question of a town and an asking verb says is the town."""
    service = _bot_over(tmp_path, {"servicio.md": REPAIR_SERVICE})
    assert "Utebo" in service.answer("vivo en utebo, llegais hasta aqui?", [], "es")
    assert service.answer("vivo en huesca, llegais hasta aqui?", [], "es") == TEXTS.get(
        "no_answer", "es")


def test_an_english_page_holds_an_english_word_once_for_a_price(tmp_path):
    """"how much is an electrical certificate" got an electrician's English page ("we can
    check the electrical installation... The check costs 120 €") over the Spanish price of
    the certificate ("Boletín (certificado de instalación eléctrica): 180 €"): a word has a
    Spanish and an English stem, the English page held both of "electrical" and the Spanish
    list one. What a price is asked of is counted by word."""
    firm = _bot_over(tmp_path, {
        "english.txt": (
            "ELECTRICIDAD VOLTIO - English-speaking electricians in Palma\n\n"
            "Many of our customers are foreign homeowners in Mallorca. Our foreman, Mark, is "
            "English, and the rest of the team can read your WhatsApp messages in English.\n\n"
            "If you are buying a house, we can check the electrical installation before you "
            "sign and tell you what it would cost to bring it up to standard. The check costs "
            "120 € and you get a written report in English.\n"),
        "tarifas.md": (
            "# Tarifas\n\n## Boletines\n\nBoletín (certificado de instalación eléctrica) para "
            "una vivienda de hasta 100 m²: 180 €. Lo tramitamos en Industria en una semana.\n\n"
            "## Cuadros\n\nCambio de cuadro eléctrico de una vivienda, con diferenciales y "
            "magnetotérmicos nuevos: desde 450 €.\n\n"
            "## Desplazamiento\n\nDesplazamiento en Palma: 30 €.\n")})
    reply = firm.answer("how much is an electrical certificate", [], "en")
    assert "180 €" in reply.split("\n\n")[1], reply


def test_a_question_of_how_long_is_answered_first_by_a_passage_that_says_how_long(tmp_path):
    """"cuanto tardais en llegar" got a locksmith's "¿Cuánto cuesta abrir una puerta?" ahead
    of "Llegamos en 30 minutos": a question of how long, as one of how much, is answered
    first by the passage that states what it asks (a duration, in figures or in words)
    and holds most of what it is asked of."""
    locksmith = _bot_over(tmp_path, {
        "cerrajeria.md": (
            "# Cerrajería Llaves Ruiz\n\nCerrajeros en Málaga capital y Torremolinos. Abrimos "
            "puertas, cambiamos cerraduras y bombines e instalamos puertas acorazadas.\n\n"
            "## Urgencias 24 horas\n\nSi te has quedado fuera de casa, llámanos al 952 31 44 08 "
            "a cualquier hora, también domingos y festivos. Llegamos en 30 minutos de media "
            "dentro de Málaga capital.\n\n"
            "## Garantía\n\nTodos los trabajos tienen un año de garantía en mano de obra.\n\n"
            "## Copias de llaves\n\nHacemos copias de llaves en la tienda de la calle "
            "Carretería 61 por 3 €. Si las encargas, te las guardamos tres meses.\n"),
        "preguntas.txt": (
            "PREGUNTAS FRECUENTES\n\n¿Rompéis la puerta para abrirla?\nCasi nunca. En el 90% de "
            "los casos abrimos sin romper nada.\n\n¿Cuánto cuesta abrir una puerta?\nDepende de "
            "la hora y de si está cerrada con llave. Te decimos el precio cerrado por WhatsApp "
            "antes de salir, sin sorpresas.\n\n¿Abrís coches?\nNo. Solo trabajamos en viviendas, "
            "locales y comunidades.\n")})
    first = locksmith.answer("cuanto tardais en llegar", [], "es").split("\n\n")[0]
    assert "30 minutos" in first
    first = locksmith.answer("cuanto tiempo me guardais las llaves encargadas", [],
                             "es").split("\n\n")[0]
    assert "tres meses" in first


def test_of_two_prices_that_hold_the_question_the_one_on_its_line_comes_first(tmp_path):
    """"cuanto cuesta la hora" found a plumber's emergencies ("Atendemos urgencias las 24
    horas... la salida de urgencia cuesta 60 €"), which hold "hora" as much as the price
    list does: the price stated on the line of what is asked ("Mano de obra: 38 € la hora")
    comes first."""
    plumber = _bot_over(tmp_path, {
        "servicios.md": (
        "# Fontanería Hermanos Ruiz\n\nFontaneros y calefactores en Murcia y pedanías desde "
        "2001.\n\n"
        "## Urgencias\n\nAtendemos urgencias las 24 horas, también sábados, domingos y "
        "festivos, en el teléfono 968 20 44 19.\nFuera del horario normal (de lunes a viernes "
        "de 8:00 a 19:00), la salida de urgencia cuesta 60 € más la mano de obra.\n\n"
        "## Precios\n\n**Desplazamiento:** 25 € en Murcia ciudad, 35 € en pedanías. Gratis si "
        "aceptas el presupuesto.\n**Mano de obra:** 38 € la hora (IVA incluido), por "
        "fracciones de media hora.\n**Presupuesto:** gratis y sin compromiso, en 48 horas.\n\n"
        "## Garantía y pago\n\nTodos nuestros trabajos tienen 1 año de garantía. Se paga al "
        "terminar el trabajo, en efectivo, con tarjeta o por Bizum.\n"),
        "faq.txt": (
            "PREGUNTAS FRECUENTES\n\n¿Cuánto tardáis en venir?\nEn urgencias, menos de 2 horas "
            "en Murcia ciudad. Para trabajos normales, solemos dar cita en 2 o 3 días.\n\n"
            "¿Dais factura?\nSí, siempre, con el detalle de piezas y horas. Te la enviamos por "
            "email.\n")})
    first = plumber.answer("cuanto cuesta la hora", [], "es").split("\n\n")[0]
    assert "38 € la hora" in first


def test_being_and_having_done_are_no_words_of_the_topic(tmp_path):
    """"¿sois ecológicos?" was refused by a farm whose documents say "certificado
    ecológico": "sois" is the verb "ser", which no document writes (they say "somos"), and
    it counted for as much of the question as "ecológicos". The forms of "ser", "estar" and
    "haber" are function words, as "is" and "have" are."""
    farm = _bot_over(tmp_path, {"huerta.md": (
        "# La huerta\n\n"
        "Somos una huerta familiar en Paterna con certificado ecológico. Cultivamos casi "
        "todo lo que va en la cesta; la fruta que no tenemos la compramos a otros "
        "productores.\n\n"
        "## Suscripción\n\nTe suscribes a una cesta cada semana o cada quince días. No hay "
        "permanencia.\n\n"
        "## Extras\n\nPuedes añadir huevos ecológicos (docena, 4,50 €) y pan de masa madre "
        "(3,80 €).\n\n"
        "## Reparto\n\nRepartimos los martes y los jueves, entre las 9:00 y las 14:00. El "
        "envío es gratis.\n")})
    assert "certificado ecológico" in farm.answer("sois ecologicos?", [], "es")
    assert farm.answer("sois una gestoria?", [], "es") == TEXTS.get("no_answer", "es")


def test_a_question_of_hours_is_answered_first_by_a_passage_that_states_them(tmp_path):
    """"what are your phone hours" got a repair service's "Llámanos al 976 44 21 90..."
    (which holds "teléfono" and "horas", of "en 24-48 horas") ahead of its hours: a
    question of when is answered first by a passage that states days or times of day, as a
    price question is by one that states a price."""
    service = _bot_over(tmp_path, {"servicio.md": (
        "# Servitec: reparación de electrodomésticos\n\n"
        "Reparamos lavadoras, lavavajillas, frigoríficos y hornos a domicilio en Zaragoza.\n\n"
        "## Cómo pedir una visita\n\nLlámanos al 976 44 21 90 o escríbenos por WhatsApp con "
        "la marca y el modelo. Te damos cita normalmente en 24-48 horas laborables. El "
        "técnico te avisa por teléfono media hora antes de llegar.\n\n"
        "## Horario\n\nAtendemos el teléfono de lunes a viernes de 8:00 a 19:00 y los "
        "sábados de 9:00 a 13:00. Los domingos y festivos no hay servicio.\n\n"
        "## Pago\n\nSe paga al terminar la reparación, con tarjeta, Bizum o en efectivo.\n")})
    first = service.answer("what are your phone hours", [], "en").split("\n\n")[1]
    assert "8:00 a 19:00" in first


def test_a_question_of_hours_keeps_a_first_passage_that_states_a_time(tmp_path):
    """"a qué hora hay que salir por la mañana" finds a hostel's Spanish hours, which say
    "antes de las 8:00"; its English page says the same and holds more of the question
    ("salir" stands in for its "out"). A time is stated in passing more often than a price,
    so the first passage that states one stays the answer."""
    hostel = _bot_over(tmp_path, {
        "albergue.md": (
            "# Albergue del Camino\n\nAlbergue para peregrinos en Sarria, abierto de marzo a "
            "noviembre.\n\n"
            "## Horario\n\nAbrimos la puerta a los peregrinos a las 12:00 y cerramos a las "
            "22:30. Hay que dejar el albergue antes de las 8:00.\n\n"
            "## Reservas\n\nSe puede reservar por WhatsApp o por teléfono, hasta el día "
            "anterior. Si no llegas antes de las 18:00 y no nos avisas, damos la cama a otro "
            "peregrino.\n\n"
            "## Camas\n\nDormitorios de 8 y de 12 literas: 15 € la noche. Habitación privada "
            "para dos: 45 €.\n"),
        "english.md": (
            "# Albergue del Camino: information for pilgrims\n\n"
            "## Opening times\n\nDoors open at 12 noon and close at 10:30pm. Check-out is "
            "before 8am.\n\n"
            "## Beds\n\nBunk beds in dormitories of 8 and 12, 15 euros a night. Private "
            "double room, 45 euros.\n")})
    reply = hostel.answer("a que hora hay que salir por la mañana", [], "es")
    assert reply.startswith("## Horario\nAbrimos la puerta")


def test_a_contraction_typed_without_its_apostrophe_is_no_word_of_the_question(index_cache):
    """"whats the water temperature in october" reached a dive centre's Spanish showers
    ("agua caliente"), "whats" standing in for a word of its documents: typed on a phone
    without the apostrophe, "what's" is still "what" and "is"."""
    school = _eval_bot("buceo", index_cache)
    assert school.answer("whats the water temperature in october", [], "en") == TEXTS.get(
        "no_answer", "en")


def test_an_ir_verb_typed_without_its_accent_asks_the_business(tmp_path):
    """"¿venís los sábados?" typed "venis los sabados?" was refused by a repair service whose
    hours say when it visits: "venís" without its accent did not read as a verb asking the
    business (as "tenéis" typed "teneis" does), and no document writing it, it counted as
    the most of the question. "Tenis" is no verb: a question of it is still refused."""
    service = _bot_over(tmp_path, {"servicio.md": REPAIR_SERVICE})
    assert "Las visitas se hacen de lunes a viernes" in service.answer(
        "venis los sabados?", [], "es")
    assert service.answer("teneis pista de tenis?", [], "es") == TEXTS.get("no_answer", "es")


def test_having_is_no_word_of_the_topic(tmp_path):
    """"y si el coche tiene un embargo?" was refused by an agency whose documents say what
    happens with "embargos": "tiene", which no document writes, counted for more of the
    question than "embargo". "Tener" is an auxiliary, as "have" is."""
    agency = _bot_over(tmp_path, {"gestoria.md": (
        "# Gestoría Tráfico Sur\n\n"
        "## Transferencia de un coche\n\nCambiamos el coche de nombre cuando lo compras o "
        "lo vendes de segunda mano. Honorarios: 60 €, más la tasa de la DGT.\n\n"
        "## Bajas\n\nBaja temporal de un vehículo, si no vas a usarlo un tiempo: 40 € más "
        "tasa.\n\n"
        "## Pago\n\nSe paga al encargar el trámite, por transferencia o Bizum, o con tarjeta "
        "en la oficina. Si el trámite "
        "no se puede hacer por un problema del vehículo (embargos, cargas), te devolvemos "
        "los honorarios, no las tasas ya pagadas.\n\n"
        "## Multas\n\nNo recurrimos multas: para eso necesitas un abogado.\n")})
    assert "embargos" in agency.answer("mi coche tiene un embargo, se puede hacer?", [], "es")


def test_how_much_alone_after_an_answer_asks_its_price(tmp_path):
    """"¿lavais motos?" got a car wash's prices, which end with the motorbikes' one; "cuanto?"
    then found the section "Cuánto se tarda" by its title. "¿Cuánto?" alone asks what the
    thing just answered costs, as "¿cuánto cuesta?" does."""
    wash = _bot_over(tmp_path, {"servicios.md": (
        "# Lavacar Brillo\n\nLavado de coches a mano en Murcia, sin rodillos.\n\n"
        "## Precios\n\nLavado exterior: 12 €. Lavado completo: 22 €. Pulido: 90 €.\n"
        "Motos: lavado exterior 10 €.\n\n"
        "## Cuánto se tarda\n\nUn lavado exterior, unos 20 minutos; el completo, 45 "
        "minutos.\n\n"
        "## Cita\n\nLos lavados no necesitan cita: vienes y esperas tu turno.\n")})
    first = wash.answer("lavais motos?", [], "es")
    assert "Motos: lavado exterior 10 €" in first
    history = [("user", "lavais motos?"), ("assistant", first)]
    assert "Motos: lavado exterior 10 €" in wash.answer("cuanto?", history, "es")
    assert "20 minutos" in wash.answer("cuanto tarda?", history, "es")


def test_a_pronoun_is_no_word_of_what_is_asked(tmp_path):
    """"can i return something" was refused by a music shop whose Spanish documents say
    "puedes devolver lo que compres": "return" stood in for "devolver", but "something",
    which nothing stands in for, counted for more of the question."""
    shop = _bot_over(tmp_path, {"tienda.md": (
        "# Música Aragó\n\nTienda de instrumentos musicales en Barcelona.\n\n"
        "## Garantía y devoluciones\n\nLos instrumentos nuevos tienen 3 años de garantía. "
        "Tienes 30 días para devolver lo que compres sin usar, con el tique. Las cuerdas y "
        "las púas no se devuelven.\n\n"
        "## Taller\n\nNuestro luthier ajusta y repara guitarras y bajos: cambio de cuerdas, "
        "ajuste completo y electrónica.\n\n"
        "## Pago\n\nAceptamos tarjeta, efectivo y Bizum.\n")})
    assert "30 días para devolver" in shop.answer("can i return something", [], "en")


def test_wanting_is_no_word_of_what_is_asked(tmp_path):
    """"quiero que borréis mis datos" was refused by a cosmetics shop whose privacy policy
    says "puedes pedir que borremos tus datos": "quiero", in no document, counted as much as
    "datos". It says what the customer is after, not what it is."""
    shop = _bot_over(tmp_path, {"devoluciones.md": (
        "# Política de devoluciones\n\n## Plazo\n\nTienes 30 días desde que recibes el pedido "
        "para devolver cualquier producto sin abrir. Los productos abiertos no se pueden "
        "devolver por motivos de higiene.\n\n## Cómo devolver\n\nEscríbenos a "
        "hola@lumencosmetica.es con tu número de pedido. Te mandamos una etiqueta de "
        "devolución: el envío de vuelta cuesta 3,90 €.\n\n## Reembolso\n\nDevolvemos el "
        "dinero en la misma forma de pago en un máximo de 14 días.\n"),
        "privacidad.md": (
        "# Lumen Cosmética Natural · Política de privacidad\n\n## Política de privacidad\n\n"
        "Responsable: Lumen Cosmética Natural S.L., calle Cirilo "
        "Amorós 18, 46004 Valencia. Usamos tus datos para gestionar tus pedidos y, si lo "
        "aceptas, para enviarte la newsletter. Guardamos los datos de tus pedidos 6 años.\n\n"
        "## Tus derechos\n\nPuedes pedir que borremos tus datos o darte de baja de la "
        "newsletter escribiendo a privacidad@lumencosmetica.es. Respondemos en un máximo de "
        "30 días.\n"),
        "productos.md": (
        "# Sobre nuestros productos\n\n## Ingredientes\n\nTodos nuestros productos son "
        "veganos y no testados en animales.\n\n## Muestras\n\nCon cada pedido de más de "
        "20 € regalamos dos muestras. Puedes elegirlas en el carrito.\n")})
    assert "borremos tus datos" in shop.answer("quiero que borreis mis datos", [], "es")


def test_asking_what_is_charged_asks_a_price(tmp_path):
    """"la boda es en Ronda, ¿cobráis desplazamiento?" got a caterer's "No hacemos tartas
    nupciales" (a wedding, and "cobráis" near nothing): "cobráis" asks a price, as "¿cuánto
    cobráis?" does, and the terms that state what travel costs answer it."""
    caterer = _bot_over(tmp_path, {"condiciones.md": (
        "# Catering Sal y Limón · Condiciones\n\n## Reserva de fecha\n\nLa fecha queda "
        "reservada al pagar una señal del 30% del presupuesto.\n\n## Pagos\n\nEl 30% al "
        "reservar, el 60% un mes antes del evento y el 10% restante después. Aceptamos "
        "transferencia bancaria y tarjeta.\n\n## Desplazamiento\n\nEl desplazamiento es "
        "gratis hasta 40 km de San Pedro Alcántara (Marbella, Estepona, Benahavís, Mijas). "
        "Más lejos cobramos 1,20 € por kilómetro, ida y vuelta.\n\n## Mal tiempo\n\nSi el "
        "evento es al aire libre, la finca debe tener un plan B cubierto.\n"),
        "preguntas.md": (
        "# Preguntas frecuentes\n\n## ¿Hacéis la tarta de boda?\n\nNo hacemos tartas "
        "nupciales. Os recomendamos pedirla a una pastelería y nosotros la servimos sin "
        "coste.\n\n## ¿Con cuánta antelación hay que reservar?\n\nPara bodas, entre 6 y 12 "
        "meses antes; en temporada alta (mayo a octubre), mejor un año.\n\n## ¿Cuál es el "
        "número mínimo de invitados?\n\n30 adultos.\n")})
    assert "El desplazamiento es gratis" in caterer.answer(
        "la boda es en ronda, cobrais desplazamiento?", [], "es")


def test_a_price_question_is_held_by_the_price_list_that_names_its_thing(tmp_path):
    """"cuanto cuesta el lomo" was refused by a ham shop whose price list has "Lomo de
    bellota (1 kg aprox.): 45 €": just under the bar, the list held "lomo" but not "cuánto
    cuesta". A list that states prices holds the words a price question asks them with."""
    shop = _bot_over(tmp_path, {"tienda.md": (
        "# Jamones Ruiz · Guijuelo\n\nSecadero familiar en Guijuelo (Salamanca) desde 1958.\n\n"
        "## Productos y precios\n\n"
        "- Jamón de cebo ibérico, 50 % raza ibérica (7-8 kg): 189 €\n"
        "- Jamón de bellota ibérico 75 % (7-8 kg): 349 €\n"
        "- Paleta de bellota ibérica (4,5-5 kg): 159 €\n"
        "- Lomo de bellota (1 kg aprox.): 45 €\n"
        "- Chorizo y salchichón ibérico de bellota: 12 € la pieza\n\n"
        "## Loncheado\n\nTe loncheamos el jamón a cuchillo y lo envasamos al vacío en sobres "
        "de 100 g por 35 € más.\n\n## Pagos\n\nTarjeta, Bizum, PayPal y transferencia. En la "
        "tienda, también efectivo.\n\n## Tienda\n\nTienda en la Avenida de Salamanca 40, "
        "Guijuelo. De lunes a sábado de 10:00 a 14:00.\n")})
    assert "Lomo de bellota (1 kg aprox.): 45 €" in shop.answer("cuanto cuesta el lomo", [], "es")


def test_a_day_said_from_the_customers_own_is_no_word_of_what_is_asked(tmp_path):
    """"whats the weather tomorrow in valencia" got a veg box's delivery days: the encoder put
    "tomorrow" next to "jueves", which no document can mean by it. The days still answer
    the question of which days."""
    farm = _bot_over(tmp_path, {"cestas.md": (
        "# La Huerta de Marta: cestas ecológicas a domicilio\n\nSomos una huerta familiar en "
        "Paterna (Valencia) con certificado ecológico.\n\n## Las cestas\n\nCesta pequeña "
        "(5 kg): 19 €. Mediana (8 kg): 27 €. Grande (12 kg): 36 €.\n\n## Suscripción\n\nTe "
        "suscribes a una cesta cada semana o cada quince días. No hay permanencia.\n"),
        "entregas.txt": (
        "ZONAS Y DÍAS DE ENTREGA\n\nRepartimos nosotros mismos, en furgoneta, en estos días:\n"
        "- Martes: Valencia ciudad.\n- Miércoles: Paterna, Burjassot, Godella y Rocafort.\n"
        "- Jueves: Torrent, Aldaia, Alaquàs y Xirivella.\nFuera de estas zonas no repartimos, "
        "pero puedes recoger la cesta en la huerta los viernes de 17:00 a 20:00.\n\nEl reparto "
        "es entre las 9:00 y las 14:00. El envío es gratis.\n"),
        "faq-english.md": (
        "# La Huerta de Marta in English\n\nWe deliver organic fruit and vegetable boxes "
        "around Valencia. Boxes cost from 19 euros (small, 5 kg) to 36 euros (large, 12 kg); "
        "delivery is free.\n")})
    assert farm.answer("whats the weather tomorrow in valencia", [], "en") == TEXTS.get(
        "no_answer", "en")
    assert "Jueves: Torrent" in farm.answer("que dias repartis en torrent?", [], "es")


def test_the_short_vosotros_verbs_and_the_pronouns_ask_the_business(tmp_path):
    """"¿dais cenas?" was refused by a guesthouse that says "No servimos comidas ni cenas":
    "dais", too short to read as a "vosotros" verb, counted as the most informative word of
    all. "¿me la montáis vosotros?" was refused by a furniture shop for "vosotros"."""
    house = _bot_over(tmp_path, {"casa.md": (
        "# Casa Rural El Roble\n\nCasa rural de piedra del siglo XIX en Navarredonda de "
        "Gredos (Ávila).\n\n## La casa\n\nTenemos cinco habitaciones, todas con baño propio y "
        "calefacción. También se puede alquilar la casa completa (hasta 12 personas), con "
        "cocina equipada, salón con chimenea, barbacoa y jardín.\n\n## Desayuno y comidas\n\n"
        "El desayuno casero se sirve de 8:30 a 10:30 en el comedor: pan del pueblo, bizcocho "
        "hecho en casa y zumo natural. No servimos comidas ni cenas, pero en el pueblo hay "
        "tres restaurantes a cinco minutos andando.\n\n## Cómo llegar\n\nEstamos en la Calle "
        "del Prado 7, Navarredonda de Gredos. Desde Madrid son dos horas en coche.\n"),
        "muebles.md": (
        "# Muebles Olmo\n\n## Entrega\n\nEntregamos en casa en 7 a 10 días laborables; el "
        "envío es gratis a partir de 300 €.\n\n## Montaje\n\nSí. El montaje cuesta 30 € por "
        "mueble y es gratis en pedidos de más de 800 €. También nos llevamos el mueble viejo "
        "por 20 €.\n\n## Pago\n\nTarjeta, transferencia o financiación en 12 meses.\n")})
    assert "No servimos comidas ni cenas" in house.answer("dais cenas?", [], "es")
    assert "El montaje cuesta 30 €" in house.answer("me lo montais vosotros?", [], "es")


def test_going_is_no_word_of_what_is_asked(tmp_path):
    """"mi hija de 12 puede ir sola a Madrid?" was refused by a coach company whose
    documents say "Los menores de 14 años no pueden viajar solos": "ir" counted for as much
    as "sola". It is a light verb, as "poder" and "tener" are."""
    coaches = _bot_over(tmp_path, {"billetes.md": (
        "# Autocares Castilla\n\n## Líneas\n\nSegovia - Madrid cada hora de 6:30 a 22:30, "
        "con parada en Villalba.\n\n## Billetes\n\nSencillo Segovia - Madrid: 8,50 €. Abono "
        "mensual Segovia - Madrid: 120 € (viajes ilimitados).\n\n## Niños\n\nLos menores de "
        "4 años viajan gratis sin ocupar asiento. Desde los 4 años pagan billete completo. "
        "Los menores de 14 años no pueden viajar solos.\n\n## Equipaje\n\nUna maleta en la "
        "bodega y un bulto de mano por viajero.\n")})
    assert "no pueden viajar solos" in coaches.answer(
        "mi hija de 12 puede ir sola a madrid?", [], "es")


def test_to_the_customers_home_is_where_the_documents_deliver(tmp_path):
    """"¿me la podéis llevar a casa?" was refused by a cake shop whose documents say
    "Llevamos tartas a domicilio dentro de Barcelona por 8 euros": a business that comes to
    the customer's home says "a domicilio"."""
    shop = _bot_over(tmp_path, {"informacion.txt": (
        "Pastelería Dulce Abril lleva desde 1995 en el barrio de Gràcia, en la calle Verdi 48 "
        "de Barcelona. Hacemos todo en nuestro obrador, cada mañana.\n\n"
        "Abrimos de martes a sábado de 8:00 a 14:00 y de 17:00 a 20:30, y los domingos de 8:30 "
        "a 14:30. Los lunes cerramos por descanso del personal.\n\n"
        "Las tartas de cumpleaños y de celebración se encargan con al menos 48 horas de "
        "antelación, por WhatsApp o en la tienda. Al encargar se paga la mitad del precio, y "
        "el resto al recogerla.\n\n"
        "Tenemos opciones sin gluten y sin lactosa. No hacemos productos veganos por ahora.\n\n"
        "Llevamos tartas a domicilio dentro de Barcelona por 8 euros, y gratis en pedidos de "
        "más de 60 euros. Las entregas se hacen de martes a sábado entre las 10:00 y las "
        "13:00.\n\n"
        "Aceptamos efectivo, tarjeta y Bizum.\n"),
        "faq.md": (
        "# Preguntas frecuentes\n\n## ¿Puedo recoger la tarta otro día?\n\nSí, guardamos las "
        "tartas encargadas en nuestra cámara hasta 24 horas después de la fecha de "
        "recogida.\n\n## ¿Cuánto dura una tarta?\n\nLas tartas con nata o crema, 2 días en la "
        "nevera.\n")})
    assert "a domicilio dentro de Barcelona" in shop.answer(
        "me la podeis llevar a casa?", [], "es")


def test_a_question_is_answered_past_the_words_that_say_why_it_is_asked(tmp_path, index_cache):
    """"¿tenéis ascensor? voy con mi madre mayor" was refused by a guesthouse whose
    documents say "Hay ascensor": "madre" and "mayor", which say why the customer asks,
    counted as words no passage holds. The clause that asks is searched alone when the whole
    message is closest to what it finds; where the rest of the message sets what is asked
    ("somos 15 amigos" of a brewery's visits), the clause alone does not answer it: it had
    found the brewery shop's Friday hours."""
    hostel = _bot_over(tmp_path, {"hostal.md": (
        "# Hostal La Plaza\n\nHostal en el centro de Burgos, a 200 metros de la catedral.\n\n"
        "## Habitaciones\n\nTenemos 14 habitaciones: individuales, dobles y triples, todas con "
        "baño y calefacción. Hay ascensor hasta la última planta y dos habitaciones adaptadas "
        "para sillas de ruedas.\n\n## Recepción\n\nLa recepción abre de lunes a jueves de 8:00 "
        "a 22:00, y los viernes y sábados hasta medianoche. Si llegas más tarde, avísanos y te "
        "dejamos la llave en una caja con código.\n\n## Desayuno\n\nDesayuno de 7:30 a 10:30 "
        "por 6 € por persona.\n\n## Cancelaciones\n\nCancelación gratis hasta 48 horas antes "
        "de la llegada.\n")})
    assert "Hay ascensor" in hostel.answer("teneis ascensor? voy con mi madre mayor", [], "es")
    assert "Hay ascensor" in hostel.answer("mi madre va en silla de ruedas, hay ascensor?",
                                           [], "es")
    brewery = _eval_bot("cerveceria", index_cache)
    assert brewery.answer("somos 15 amigos, podemos ir un viernes?", [], "es").startswith(
        "Lo siento")
    # The clause is read as the question it is: an offer of what no document names is
    # refused ("¿tenéis cursos de pádel?" of a golf club), as it would be alone.
    golf = _eval_bot("golf", index_cache)
    assert "Escuela de golf" in golf.answer("nunca he jugado, teneis cursos?", [], "es")
    assert golf.answer("nunca he jugado, teneis cursos de padel?", [], "es").startswith(
        "Lo siento")


def test_a_price_asked_of_nothing_is_asked_of_the_question_before(index_cache):
    """"¿cuánto cuesta?" after "queremos grabar un podcast con vídeo" found a recording
    studio's English rates alone (it reads "costs"), where its Spanish price list names the
    podcast; and "¿cuánto tarda?" after a question on engraving a ring, a watch repairer's
    free estimate ("que tarda de 3 a 5 días"). A price or a time asked of nothing carries on
    the question before."""
    studio = _eval_bot("grabacion", index_cache)
    assert "Podcast con vídeo y edición: 120 €" in _conversation(
        studio, "es", "queremos grabar un podcast con video", "cuanto cuesta")[1]
    jeweller = _eval_bot("relojeria", index_cache)
    assert "en 2 días" in _conversation(
        jeweller, "es", "quiero grabar una fecha en una alianza", "cuanto tarda?")[1]


def test_a_passage_that_stands_out_and_holds_the_question_clears_a_lower_bar(index_cache):
    """The first passage found, well ahead of the next and holding a good share of what the
    question says, is its answer a little under the bar: "llevan parabenos?" found the
    cosmetics shop's ingredients at 0.732, 0.032 ahead of the next, and was refused. A
    question that stands out as far but holds little of it is still refused: "cuanto cuesta
    un vuelo a canarias" found the shipping to the Canaries 0.056 ahead."""
    shop = _eval_bot("cosmetica", index_cache)
    assert "parabenos" in shop.answer("llevan parabenos?", [], "es").lower()
    assert "la devolución es gratis" in shop.answer("me ha llegado el bote roto", [], "es")
    assert shop.answer("cuanto cuesta un vuelo a canarias", [], "es") == TEXTS.get(
        "no_answer", "es")


def test_a_vosotros_verb_is_answered_by_the_passage_that_says_it_in_the_first_person(
        index_cache):
    """"¿atendéis conejos?" was refused by a vet whose introduction names rabbits: the
    folded "atendeis", which Snowball leaves whole, only met its FAQ's "¿Atendéis a
    domicilio?", and its English stem no passage, so the introduction held half the
    question (0.726). "¿me quitáis un par de eslabones?" never met a jeweller's "quitar
    eslabones"."""
    vet = _eval_bot("veterinaria", index_cache)
    assert "conejos" in vet.answer("atendeis conejos?", [], "es").lower()
    assert vet.answer("atendeis caballos?", [], "es") == TEXTS.get("no_answer", "es")
    jeweller = _eval_bot("relojeria", index_cache)
    assert "eslabones" in jeweller.answer(
        "me quitais un par de eslabones a la correa metalica?", [], "es")


def test_a_place_to_send_to_that_no_document_names_does_not_refuse_the_shipping_page(
        index_cache):
    """A brewery's shipping page says "No enviamos a Baleares"; "enviais a mallorca?" held a
    fifth of its words there, "mallorca" weighing as a thing the documents never mention,
    and was refused at 0.729. The place is left out of what a passage must hold, as a name
    is; what is sent is not: "enviais pizzas a mallorca?" is still refused."""
    brewery = _eval_bot("cerveceria", index_cache)
    assert "No enviamos a Baleares" in brewery.answer("enviais a mallorca?", [], "es")
    assert brewery.answer("enviais pizzas a mallorca?", [], "es") == TEXTS.get(
        "no_answer", "es")


def test_a_follow_up_that_names_another_place_asks_the_question_before_of_it(index_cache):
    """"y a mallorca?" after "¿enviáis a Madrid?" asks whether the brewery sends to
    Mallorca: read with the question before, the place no document names had left its
    shipping page ("No enviamos a Baleares") under the bar. The same in English."""
    brewery = _eval_bot("cerveceria", index_cache)
    replies = _conversation(brewery, "es", "enviais a madrid?", "y a mallorca?")
    assert "No enviamos a Baleares" in replies[-1]
    shop = _eval_bot("herbolario", index_cache)
    replies = _conversation(shop, "en", "do you ship to madrid", "and to the canary islands?")
    assert "No enviamos a Canarias" in replies[-1]


def test_a_place_to_send_to_is_left_out_only_where_a_passage_names_where_it_sends(
        index_cache):
    """A cheese maker's "Si llega en mal estado... mándanos una foto" holds "mandar" and
    names no place: with Tenerife left out, it had answered "me lo podeis mandar a
    tenerife?", which its shipping page ("No enviamos a Canarias") answers."""
    cheese = _eval_bot("queseria", index_cache)
    assert "mándanos una foto" not in cheese.answer("me lo podeis mandar a tenerife?", [], "es")


def test_a_short_follow_up_stays_with_the_passage_quoted_when_it_holds_as_many_words(
        index_cache):
    """After a play centre's birthday parties, "que incluye la merienda" found its page on
    allergies ("preparamos merienda sin gluten") first, which holds "merienda" as the
    parties do: the conversation was about the parties, whose snack is the answer."""
    centre = _eval_bot("ludoteca", index_cache)
    replies = _conversation(centre, "es", "quiero celebrar el cumple de mi hija",
                            "que incluye la merienda")
    assert "sándwiches, patatas, zumo" in replies[-1]


def test_a_price_asked_of_a_passage_that_says_it_is_free_is_answered_by_it(index_cache):
    """"¿cuánto cuesta?" after a property manager's certificate for selling a flat got its
    fees, "Desde 18 € al mes": the certificate's passage, quoted just before, says "Es
    gratis", no amount."""
    manager = _eval_bot("fincas", index_cache)
    replies = _conversation(manager, "es",
                            "voy a vender el piso, necesito un papel de que estoy al dia",
                            "cuanto cuesta?")
    assert replies[-1].startswith("## Certificado de deuda")
    assert "Es gratis para los propietarios al corriente" in " ".join(replies[-1].split())


def test_a_one_line_section_of_a_catalogue_answers_a_question_in_the_other_language(
        index_cache):
    """A bookshop's one-line section *Juegos de mesa* had been read only with the title of
    its document above it, and "do you sell board games" was refused."""
    shop = _eval_bot("libreria", index_cache)
    assert "Juegos de mesa" in shop.answer("do you sell board games", [], "en")
