"""Every fixed text a person on WhatsApp can read, in each language we serve.

Each can be replaced per language by a setting, `REPLY_<KEY>_<LANG>` (for example
`REPLY_NO_ANSWER_ES`); `app.config` reads them and passes them here as overrides.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULTS: dict[str, dict[str, str]] = {
    "no_answer": {
        "es": "Lo siento, no tengo información sobre eso. ¿Puedes preguntarlo de otra forma? "
              "Si prefieres, escribe «agente» y te atenderá una persona.",
        "en": "Sorry, I don't have information about that. Could you ask it another way? "
              "Or write \"agent\" and a person will help you.",
    },
    "fallback": {
        "es": "Perdona, ahora mismo no puedo responder. Inténtalo de nuevo en unos minutos.",
        "en": "Sorry, I can't answer right now. Please try again in a few minutes.",
    },
    "unsupported": {
        "es": "Perdona, solo puedo leer mensajes de texto. Escríbeme tu pregunta, por favor.",
        "en": "Sorry, I can only read text messages. Please type your question.",
    },
    "greeting": {
        "es": "¡Hola! Soy el asistente virtual. Pregúntame lo que necesites: horarios, envíos, "
              "devoluciones, pagos… Si prefieres hablar con una persona, escribe «agente».",
        "en": "Hi! I'm the virtual assistant. Ask me anything you need: opening hours, "
              "shipping, returns, payments… To talk to a person, write \"agent\".",
    },
    "thanks": {
        "es": "¡De nada! Si necesitas algo más, aquí estoy.",
        "en": "You're welcome! If you need anything else, just ask.",
    },
    "goodbye": {
        "es": "¡Hasta pronto! Aquí estaré si necesitas algo.",
        "en": "Goodbye! I'm here whenever you need anything.",
    },
    "handoff": {
        "es": "De acuerdo, he avisado al equipo: una persona leerá la conversación y te "
              "responderá aquí mismo en cuanto pueda.",
        "en": "Sure, I've let the team know: a person will read the conversation and reply "
              "here as soon as they can.",
    },
    "other_language": {
        "es": "Solo tengo esta información en inglés:",
        "en": "I only have this information in Spanish:",
    },
}
LANGUAGE_NAMES = {"es": "Spanish", "en": "English"}


class Texts:
    """`get(key, language)`: the fixed text, with any per-language override applied."""

    def __init__(self, overrides: Mapping[str, Mapping[str, str]] | None = None):
        self.table = {key: {**by_language, **dict((overrides or {}).get(key, {}))}
                      for key, by_language in DEFAULTS.items()}

    def get(self, key: str, language: str) -> str:
        """The text `key` in `language` (Spanish when we have nothing in that language)."""
        by_language = self.table[key]
        return by_language.get(language, by_language["es"])
