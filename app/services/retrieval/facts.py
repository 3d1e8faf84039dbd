"""The questions a passage answers by the kind of fact it gives: a street address, a phone number.

"¿Dónde estáis?" shares no word with "Estamos en la Calle Feria 23, 41003 Sevilla", and the
models place it no closer to that sentence than to any other: a question of where, or of which
number to call, names what it wants only by its kind. A passage that gives such a fact is
searched also by the question it answers.
"""

from __future__ import annotations

import re

from app.services.retrieval.analysis import words

# A Spanish postcode, then its town: "41003 Sevilla".
POSTCODE = re.compile(r"\b\d{5}\s+[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+")
# A street, square or road, a capitalised name of up to six words, then its number, its
# kilometre or "s/n" (no number): "Calle Feria 23", "C/ Mayor, 5", "Avda. de la
# Constitución 12", "Carretera de Alcantarilla, km 3", "Plaza Mayor s/n", "12 High Street";
# or a postcode and its town.
STREET = re.compile(
    r"\b(?i:calle|c/|avenida|avda\.?|av\.|plaza|pza\.?|pl\.|paseo|pº|camino|"
    r"carretera|ctra\.?|ronda|travesía|glorieta|rambla|pasaje|polígono|pol\.|urbanización|"
    r"urb\.)\s*"
    r"(?:(?:de|del|al|la|las|los|el|y)\s+|[A-ZÁÉÍÓÚÑ0-9][\w'.ºª-]*\s*){1,6},?\s*"
    r"(?:(?:n\.?º|(?i:km)\.?)\s*)?(?:\d{1,4}\b|(?i:s/n)\b)"
    r"|\b\d{1,4}[a-z]?,?\s+(?:[A-Z][\w'-]*\s+){1,4}"
    r"(?i:street|st\.?|road|rd\.?|avenue|ave\.?|lane|square|boulevard|drive|place)\b"
    r"|" + POSTCODE.pattern)
# A place given by what it is near, as a business with no street address gives its own (a
# ski hire shop "a 50 metros de la telecabina", a campsite "junto al río", a sailing club's
# pontoon "next to the fuel station"); in Spanish, "de" and "a" take their article as "del"
# and "al".
NEAR = (r"(?:a\s+(?:unos\s+)?\d+\s*(?:metros|m|minutos|min)\s+(?:a pie\s+|andando\s+)?de|"
        r"junto\s+a|frente\s+a|enfrente\s+de|al\s+lado\s+de)")
NEAR_EN = (r"(?:\d+\s*(?:metres|meters|m|minutes|mins)\s+(?:walk\s+)?from|next\s+to|opposite|"
           r"in\s+front\s+of)")
LANDMARK = re.compile(
    rf"\b(?:{NEAR}(?:l\s|\s+(?:(?:el|la|los|las)\b|(?-i:[A-ZÁÉÍÓÚÑ])))|"
    rf"{NEAR_EN}\s+(?:the\b|(?-i:[A-Z])))", re.IGNORECASE)
# The landmarks themselves, after those words or ones like them with a number in words
# ("a dos minutos de la Catedral", "cerca del puerto", "close to the station"): somewhere
# else, which a question may ask the hours of (`landmarks`).
PLACE_NEAR = re.compile(
    rf"\b(?:{NEAR}l?|a\s+(?:unos\s+|unas\s+)?(?:un|una|dos|tres|cuatro|cinco|seis|diez|"
    r"quince|veinte|media)\s+(?:metros|minutos|calles|pasos|kil[oó]metros)\s+"
    rf"(?:a\s+pie\s+|andando\s+|en\s+coche\s+)?del?|cerca\s+del?|detr[aá]s\s+del?|{NEAR_EN}|"
    r"(?:minutes?|mins?|metres|meters)(?:'s)?\s+(?:walk\s+|drive\s+)?from|near|close\s+to|"
    r"behind)\s+(?P<place>[^.,;:()\n]+)", re.IGNORECASE)
LANDMARK_WORDS = 4
# A sentence that says where the business is ("Estamos en la caseta de madera azul de la
# playa", "We are in the blue wooden hut on Repic beach", "Nos encontrarás en el puerto"),
# from its start: "los fines de semana estamos en los eventos" places no one.
WHERE_WE_ARE = re.compile(
    r"(?:^|[.!?:]\s+|\n\s*)(?:estamos|nos\s+encontrar[aá]s|nos\s+encontrar[eé]is|we\s+are|"
    r"you(?:'ll|\s+will)\s+find\s+us|find\s+us)\s+(?:en|in|on|at)\s+(?:el|la|los|las|the)\b",
    re.IGNORECASE)
# Nine to fifteen digits in groups, perhaps after a country code: "983 20 40 60",
# "+34 600 123 456", "(020) 7946 0958"; not an amount, a date or a time.
PHONE = re.compile(r"(?<![\w.,:/])(?:\+\d{1,3}[ .-]?)?\(?\d{2,4}\)?(?:[ .-]?\d{2,4}){2,4}"
                   r"(?![\w.,:/]*\d)(?!\s*(?:€|%|eur|euros|\$|£))", re.IGNORECASE)

# A day of the week and a time of day: "Sábados: 9:30 a 14:30", "Monday to Friday, 9am",
# "todos los días de 8:30 a 18:30".
DAY = re.compile(r"\b(?:lunes|martes|mi[ée]rcoles|jueves|viernes|s[áa]bados?|domingos?|"
                 r"festivos|todos los d[íi]as|a diario|monday|tuesday|wednesday|thursday|"
                 r"friday|saturday|sunday|weekdays|weekends|every day|daily)\b", re.IGNORECASE)
CLOCK = re.compile(r"\b\d{1,2}(?::\d{2}|\s*(?:h|am|pm)\b|\s*[ap]\.m\.)", re.IGNORECASE)
# The words a question of opening hours uses, which a timetable seldom writes ("Lunes a
# viernes: 9:30 a 14:00" under *Horario*): a passage that gives hours holds them too, for
# the words' share of a question, not for its meaning (a view "¿A qué hora abrís?" drew
# questions of another place's hours). Every person of "abrir" is written out: Snowball
# stems "abre", "abren" and "abrís" apart ("cierra", "cierran" and "cerramos" alike).
HOURS_WORDS = ("hora horario abre abren abres abrís abrimos abierto cerráis cerramos open "
               "opening hours close")

QUESTIONS = {
    "address": {"es": "¿Dónde estáis? ¿Dónde está la tienda? Nuestra dirección",
                "en": "Where are you? Where is the shop? Our address"},
    "phone": {"es": "¿Cuál es vuestro teléfono? Llámanos",
              "en": "What is your phone number? Call us"},
}


def _phone(text: str) -> bool:
    return any(9 <= sum(c.isdigit() for c in m.group()) <= 15 for m in PHONE.finditer(text))


def _address(text: str) -> bool:
    """Whether `text` gives a street address: a street's name holds a capitalised word
    ("Calle Feria 23", not the "paseo y 1.200" of a price)."""
    return any(re.search(r"[A-ZÁÉÍÓÚÑ]", match.group()[1:]) for match in STREET.finditer(text))


def gives_contact(text: str) -> bool:
    """Whether `text` gives a street address or a phone number (a line of them is no title:
    "C/ Amaya 14, bajo · 31002 Pamplona")."""
    return _address(text) or _phone(text)


def asked_by(text: str) -> list[str]:
    """The questions `text` answers by the kind of fact it gives, in Spanish and in English:
    a passage in one is asked in the other too, and closer in the asker's own language."""
    return _asked(text, _address(text))


def _asked(text: str, address: bool) -> list[str]:
    """`asked_by`, told whether `text` gives the business's address."""
    found = [kind for kind, given in (("address", address), ("phone", _phone(text))) if given]
    return [QUESTIONS[kind][lang] for kind in found for lang in ("es", "en")]


def asked_of(texts: list[str]) -> list[list[str]]:
    """`asked_by` of each of a knowledge base's passages. Where some give an address with its
    postcode, the business's own written in full, an address without one is someone else's:
    a driving school's guide recommends "el Centro Médico Delicias, en la calle Delicias
    30", and "where are you?" found that passage as close as the school's own address.
    Where none gives a street, a passage that places something by a landmark (`LANDMARK`),
    or says where the business is (`WHERE_WE_ARE`),
    is the business's address: a ski hire shop "a 50 metros de la telecabina" was where no
    "¿dónde está la tienda?" could reach."""
    addresses = [_address(text) for text in texts]
    if not any(addresses):  # no street at all: where the documents place the business
        addresses = [bool(LANDMARK.search(text) or WHERE_WE_ARE.search(text))
                     for text in texts]
    full = [address and bool(POSTCODE.search(text))
            for text, address in zip(texts, addresses, strict=True)]
    return [_asked(text, address and (own or not any(full)))
            for text, address, own in zip(texts, addresses, full, strict=True)]


def landmarks(text: str) -> list[str]:
    """The words (folded, not function words) of the places `text` gives as near something
    (`PLACE_NEAR`), the first `LANDMARK_WORDS` of each."""
    return [folded for near in PLACE_NEAR.finditer(text)
            for _, folded in words(" ".join(near["place"].split()[:LANDMARK_WORDS]))]


# The parts of the day a timetable's times fall in, which it seldom names: "¿abrís los
# viernes por la tarde?" shared only "viernes" with "Viernes de 8:00 a 15:00" at an
# accountant's, and was refused. Each part's words are held by a timetable that gives a
# time in it (from its first hour up to the next part's; the night runs on past midnight).
DAY_PARTS = ((5, "mañana mañanas morning mornings"),
             (14, "tarde tardes afternoon afternoons evening evenings"),
             (21, "noche noches night nights evening evenings"))


def _part_of_day(hour: int) -> str:
    """The words of the part of the day (`DAY_PARTS`) an hour (0 to 23) falls in."""
    after_dawn = hour if hour >= DAY_PARTS[0][0] else hour + 24
    return next(said for start, said in reversed(DAY_PARTS) if start <= after_dawn)


# An hour of a timetable: "9:30", "9h", "9am", "8:30 p.m." (as `CLOCK` reads them).
HOUR = re.compile(r"\b(\d{1,2})(:\d{2})?\s*(?:([ap])\.?\s?m\b\.?|(h)\b)?", re.IGNORECASE)


def _hours(text: str) -> set[int]:
    """The hours (0 to 23) of the times of day `text` gives, of the 24-hour clock and of
    the 12-hour one ("9am to 8pm" are 9 and 20)."""
    found = set()
    for hour, minutes, half, h in HOUR.findall(text):
        if not (minutes or half or h) or int(hour) > 23 or (half and int(hour) > 12):
            continue
        found.add(int(hour) % 12 + 12 * (half.lower() == "p") if half else int(hour))
    return found


def hours_words(text: str) -> str:
    """`HOURS_WORDS` and the parts of the day its times fall in (`DAY_PARTS`) when `text`
    gives times of day for days of the week; else nothing."""
    if not (DAY.search(text) and CLOCK.search(text)):
        return ""
    parts = {_part_of_day(hour) for hour in _hours(text)}
    return " ".join([HOURS_WORDS, *(said for _, said in DAY_PARTS if said in parts)])


# Units a price list or a description abbreviates ("38 € el m²", "hasta 5 km",
# "bolsas de 10 kg"), and the words customers ask them in ("precio del metro de tarima",
# "how much per square metre", "¿cuántos kilos?"): a passage that uses the unit holds them
# too, for the words' share of a question, as `hours_words` does for a timetable.
# "m2" only after a figure or as a rate ("55 €/m2", "por m2"): "M2" names a laptop's chip.
UNITS = {
    re.compile(r"(?<!\w)m²|(?:\d|\bel|\bpor|\bper|/)\s*m2(?!\w)", re.IGNORECASE):
        "metro metros cuadrado cuadrados square metre metres meter meters",
    re.compile(r"(?<!\w)km(?!\w)", re.IGNORECASE):
        "kilómetro kilómetros kilometre kilometres kilometer kilometers",
    re.compile(r"(?<!\w)kg(?!\w)", re.IGNORECASE): "kilo kilos kilogramo kilogramos kilogram",
}


def unit_words(text: str) -> str:
    """The words of the units `text` abbreviates (`UNITS`); else nothing."""
    return " ".join(words for unit, words in UNITS.items() if unit.search(text))


# Holidays a timetable gives by their date ("El 25 de diciembre y el 1 de enero cerramos",
# "closed on 25 December"), and the words customers ask them by ("¿abrís el día de
# Navidad?", "are you open on christmas eve"): a passage that gives the date holds them.
# Not "año nuevo": "year" and "año" would reach a timetable for "and the yearly one?".
HOLIDAYS = {
    re.compile(rf"\b{day}\s+de\s+{month}\b|\b{day}(?:st|nd|th)?\s+(?:of\s+)?{english}\b|"
               rf"\b{english}\s+{day}(?:st|nd|th)?\b", re.IGNORECASE): holiday
    for day, month, english, holiday in (
        ("24", "diciembre", "december", "nochebuena christmas eve"),
        ("25", "diciembre", "december", "navidad christmas"),
        ("31", "diciembre", "december", "nochevieja eve"),
        ("6", "enero", "january", "reyes epiphany"),
    )
}


def holiday_words(text: str) -> str:
    """The words of the holidays whose dates `text` gives (`HOLIDAYS`); else nothing."""
    return " ".join(words for date, words in HOLIDAYS.items() if date.search(text))
