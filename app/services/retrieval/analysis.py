"""Words for lexical search: lower-cased, accents folded, stemmed for Spanish and English."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

WORD = re.compile(r"[^\W_]+", re.UNICODE)
# The function words that make a sentence Spanish or English whatever nouns it borrows ("hay
# parking", "tienen delivery?"): articles, prepositions, pronouns, conjunctions, "hay", "es".
# Not those both languages write ("a", "me", "no").
SPANISH_GRAMMAR = frozenset("""
al algo como con cual cuando de del el ella en es esta este hay la las le lo los mas mi mis o
para pero por que se si sin sobre su sus tal te tu tus un una uno y ya yo
""".split())
ENGLISH_GRAMMAR = frozenset("""
an and are as at be by can do does for from have how i if in is it my of on or so that the
this to was we what when which who why will with you your our us there
""".split())
# "Poder" as the modal it is, as English "can" is (and "could" with it): "¿se puede pagar
# con Bizum?" found the returns, which say "se pueden devolver" and "si pagaste con Bizum",
# ahead of the payment methods.
MODAL = frozenset("puedo puedes puede podemos podeis pueden podria podrias podriamos podrian "
                  "could".split())
# Function words of both languages carry no topic; Snowball's own lists are longer than needed.
# "Dónde" and "where" are not among them: they ask for a place, which the passages that give
# an address answer (their facts' questions ask it too), and "donde esta la consulta" was
# otherwise a search for "consulta" alone.
# The pieces of an English contraction are no words either: the "s" of "it's" had stood
# for "ves" and "vez" in a ham shop's documents.
# Typed without the apostrophe on a phone, a contraction is one word ("whats", "dont"):
# "whats the weather in valencia" had "whats" stand for "cosas".
CONTRACTED = frozenset("s t d m ll re ve don isn aren doesn didn won wasn weren haven hasn "
                       "couldn wouldn shouldn whats hows wheres whens whos thats theres its im "
                       "ive youre dont doesnt didnt cant isnt arent wont".split())
# "Ser", "estar", "haber" and "tener" as the auxiliaries they are, as "is" and "have" are:
# "¿sois ecológicos de verdad?" was a search for "sois" as much as for "ecológicos" (no
# document writes "sois"; "somos" it does), and "y si el coche tiene un embargo?" for "tiene".
# "Tener que" says a thing must be done, as "poder" that it may: "¿tengo que ir en ayunas?"
# had found "¿Puedo ir si tengo fiebre?" ahead of the passage on fasting. "Ir" is as light:
# "mi hija de 12 puede ir sola a Madrid?" was a search for "ir" as much as for "sola" ("van"
# is not among its forms here: it is an English word too).
AUXILIARIES = frozenset("""
soy eres somos sois son estoy estas estamos estais estan he has ha hemos habeis han
tener tengo tienes tiene tenemos teneis tienen tendre tendras tendra tendria tendrias
tendriamos tendrian am were been had ir voy vas va vamos
""".split())
# Pronouns that stand for what is asked about, and the modals left: "can i return something"
# was refused, "something" counting for more of it than "return". The object pronouns of
# "nosotros", "vosotros" and "ellos" with them ("llegamos tarde, ¿nos esperáis?", "¿os lo
# puedo mandar por correo?"), as "me", "te" and "le" are, and those pronouns themselves
# ("¿la comida la hacéis vosotros?").
PRONOUNS = frozenset("""
they them their she him her his these those something anything someone anyone somebody
anybody alguien cualquier cualquiera would should might must nos os les nosotros nosotras
vosotros vosotras ustedes usted ellos ellas
""".split())
# Wanting says what the customer is after, not what it is: "quiero grabar una fecha en una
# alianza" asks about engraving, and "quiero" is in no document.
WANTING = frozenset("""
quiero quieres quiere queremos quereis quieren querria querrias querriamos querrian quisiera
quisieramos want wants wanted wanna
""".split())
# Days and moments said from the customer's own: no document can say which day "tomorrow"
# is, and the encoder put "tomorrow" next to "jueves" and "hoy" next to "mañana": "whats the
# weather tomorrow in valencia" reached a veg box's delivery days. Not "mañana", a morning.
NOW = frozenset("hoy ayer ahora today tomorrow tonight yesterday now".split())
STOPWORDS = (SPANISH_GRAMMAR | ENGLISH_GRAMMAR | MODAL | CONTRACTED | AUXILIARIES | PRONOUNS
             | WANTING | NOW | frozenset("a me no hola vale hi hello please thanks".split()))

_STEMMERS = (snowballstemmer.stemmer("spanish"), snowballstemmer.stemmer("english"))


def fold(text: str) -> str:
    """Lower-case `text` and strip its accents: `Envíos` and `envios` are the same word."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Spanish verbs whose stressed root vowel becomes a diphthong ("duermen", "cierra",
# "devuelvo", "tiene") where the documents write the plain root ("dormimos", "cerramos",
# "devolvemos", "tenemos"): a grammar's list of the common ones, as infinitives.
STEM_CHANGING = """
acordar acostar advertir almorzar apretar aprobar atender calentar cerrar colgar comenzar
comprobar contar convertir costar demostrar descontar despertar devolver divertir dormir
empezar encender encontrar entender extender fregar invertir llover merendar mentir mostrar
mover nevar pensar perder poder preferir probar querer recomendar recordar regar renovar
requerir resolver sentar sentir sugerir tener venir volar volver
""".split()
# An infinitive and "te" ("apuntarte", "atenderte", "inscribirte"), which Snowball leaves
# whole though it strips "me", "se" and "lo": documents say "cómo apuntarte", customers
# "cómo me apunto". Not a verb's third person ("convierte", "comparte", "reparte"), nor
# "suerte" or "aparte".
ENCLITIC_TE = re.compile(r"(?<=[a-z]{3}[aei]r)(?<![iu]er)(?<!par)te$")
UNSTRESSED = re.compile(r"(?<![qg])ue|ie")  # not the "u" of "que", "guerra"
# A "vosotros" verb, accents folded ("tenéis" and "teneis" alike as "teneis"): Snowball
# strips "-áis" and "-éis" but not the folded "-ais" and "-eis", so "¿me devolvéis el
# dinero?" never met the documents' "devolvemos", and the English stem Snowball gave it
# ("devolvei") counted as a word no passage uses. Such a word is Spanish: it has the stem
# of its accented form, alone. (Every set, one run: Spanish +9 right, refusals the same.)
VOSOTROS_ENDING = re.compile(r"([a-z]{3,})([ae])is$")


def accented(match: re.Match) -> str:
    """A "vosotros" verb typed without its accent, matched with its stem and the vowel
    before "-is": "teneis" as "tenéis", "aceptais" as "aceptáis"."""
    stem, vowel = match.group(1), match.group(2)
    return stem + {"a": "á", "e": "é", "A": "Á", "E": "É"}[vowel] + match.group()[-2:]


def _plain_root(diphthong: re.Match) -> str:
    return "o" if diphthong.group() == "ue" else "e"


_ROOTS = frozenset(_STEMMERS[0].stemWord(verb) for verb in STEM_CHANGING)


@lru_cache(maxsize=65536)
def stems(word: str) -> tuple[str, ...]:
    """The Spanish and the English stem of a folded word (one, when they agree); a Spanish
    stem with its root's diphthong (`STEM_CHANGING`) as the plain root: "duermen" as
    "dormimos" ("bueno" stays itself, though "bono" is its root without one); a "vosotros"
    verb's Spanish stem alone (`VOSOTROS_ENDING`)."""
    if VOSOTROS_ENDING.search(word):
        return (_STEMMERS[0].stemWord(VOSOTROS_ENDING.sub(accented, word)),)
    # "apuntarte" as "apuntar", as Snowball reads "apuntarme".
    spanish = _STEMMERS[0].stemWord(word[:-2] if ENCLITIC_TE.search(word) else word)
    english = _STEMMERS[1].stemWord(word)
    plain = UNSTRESSED.sub(_plain_root, spanish)
    return tuple(dict.fromkeys((plain if plain in _ROOTS else spanish, english)))


def words(text: str) -> list[tuple[str, str]]:
    """`(as written, folded)` for every word of `text` that is not a stopword, lower-cased."""
    found = WORD.findall(unicodedata.normalize("NFC", text.lower()))
    return [(word, folded) for word in found if (folded := fold(word)) not in STOPWORDS]


def terms(text: str) -> list[str]:
    """Index terms of `text`: every stem of every word that is not a stopword.

    A word gets both languages' stems, so a query matches a passage whatever language each
    was written in, without having to guess the language of a three-word message.
    """
    return [stem for word in WORD.findall(fold(text)) if word not in STOPWORDS
            for stem in stems(word)]


# What people abbreviate when they type on a phone, as the words the documents would use.
CHAT_SPEAK = {
    "q": "que", "k": "que", "xq": "porque", "pq": "porque", "tb": "también", "tmb": "también",
    "dnd": "dónde", "porfa": "por favor", "xfa": "por favor", "finde": "fin de semana",
    "u": "you", "ur": "your", "pls": "please", "plz": "please", "thx": "thanks",
}
_CHAT_WORD = re.compile(r"\b(?:" + "|".join(CHAT_SPEAK) + r")\b", re.IGNORECASE)


def spelled_out(text: str) -> str:
    """`text` with chat abbreviations written out ("q" as "que", "u" as "you"): the encoders
    read "quiero q borréis mis datos" further from the passage than "quiero que ...", and a
    single letter is no word for the lexical index."""
    return _CHAT_WORD.sub(lambda m: CHAT_SPEAK[m.group().lower()], text)


# Where the customer is, said to set the scene ("vivo en Utebo, ¿llegáis hasta aquí?", "I
# live in Mairena, do you come?"): the place is what the question is about, and the words
# around it only dilute it.
WHEREABOUTS = re.compile(
    r"\b(?:vivo|vivimos|(?:i|we)\s+live)\s+(?=(?:en|in)\b)|\s*\bhasta\s+(?:aqu|all|ah)[ií]\b",
    re.IGNORECASE)


def without_whereabouts(text: str) -> str:
    """`text` without the words that say where the customer is (`WHEREABOUTS`), its place
    kept: "vivo en Utebo, ¿llegáis hasta aquí?" as "en Utebo, ¿llegáis?"."""
    return WHEREABOUTS.sub("", text)


# To the customer's home, as the documents of a business that comes to it say it: "¿venís a
# casa?" and "Reparamos a domicilio".
TO_HOME = re.compile(r"\ba\s+(?:mi\s+|tu\s+|su\s+)?casa\b", re.IGNORECASE)


def at_home(text: str) -> str:
    """`text` with "a domicilio" after each "a casa" (`TO_HOME`)."""
    return TO_HOME.sub(lambda m: m.group() + " a domicilio", text)
