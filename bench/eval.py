"""`make eval`: how well the bot answers, per language, on a labelled set of conversations.

Each line of a set (`bench/eval/*.jsonl`) is one conversation: its language and its turns, each
with what a good reply is: a list of facts (any one must appear in the reply), or `refuse`,
`greeting`, `thanks`, `goodbye`, `handoff`. Turns run in order through `ChatManager`, with a
real store, so follow-ups see the conversation. `cross` marks a question whose answer exists
only in the other language's documents. Each set runs `--repeat` times (3), caches cleared
each time; an answer's time is the least of its runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from app.config import DEFAULT_KNOWLEDGE_DIR, load_settings
from app.services.bot import make_bot
from app.services.chat import ChatManager
from app.services.language import LanguageDetector, clear_language_cache, grammar_of
from app.services.retrieval.embeddings import clear_question_cache
from app.services.smalltalk import CLOSINGS
from app.services.store.sqlite import SqliteStore
from app.services.texts import Texts

SOCIAL = ("greeting", "thanks", "goodbye", "handoff")
HERE = Path(__file__).parent / "eval"


def judge(expect, reply: str, language: str, texts: Texts) -> str:
    """`right`, `false_refusal`, `wrong`, `refused`, `not_refused`, `social_ok`, `social_missed`."""
    refusals = set(texts.table["no_answer"].values())
    if expect == "refuse":
        return "refused" if reply in refusals else "not_refused"
    if expect in SOCIAL:
        # "gracias, hasta luego" is thanks and goodbye at once: either reply handles it.
        accepted = CLOSINGS if expect in CLOSINGS else (expect,)
        return "social_ok" if reply in [texts.get(k, language) for k in accepted] else (
            "social_missed")
    flat = " ".join(reply.split())  # a fact may be wrapped across lines in the document
    if any(fact in flat for fact in expect):
        return "right"
    return "false_refusal" if reply in refusals else "wrong"


def reply_language(reply: str, texts: Texts, detector: LanguageDetector) -> str:
    """The language of the reply's own words: its first paragraph (a note, or the passage),
    by its grammar where its function words say (`grammar_of`), else by lingua: lingua read
    a surf school's "Our hut is at Valdevaqueros beach, ... next to the Dunes Café..." as
    Spanish, for its names and its "é"."""
    for table in texts.table.values():
        for language, text in table.items():
            if reply.startswith(text):
                return language
    paragraph = reply.split("\n\n")[0]
    return grammar_of(paragraph) or detector.guess(paragraph)[0]


def conversations_of(path: Path) -> list[dict]:
    """The conversations of a set: one JSON object a line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def run(path: Path, knowledge: str, verbose: bool, min_score: float | None = None,
        repeats: int = 1) -> dict:
    """Every conversation of the set at `path`; the outcomes by language, and each answer's
    time: the least of `repeats` runs, each with cold caches (this machine's speed varies
    from run to run; the least time is the answer's own cost)."""
    settings = load_settings({"KNOWLEDGE_DIR": knowledge})
    texts = Texts(settings.replies)
    bot = make_bot(settings, texts)
    if min_score is not None:
        bot.min_score = min_score
    conversations = conversations_of(path)
    outcomes, times = None, {}
    for repeat in range(repeats):
        clear_question_cache()
        clear_language_cache()
        counts, took = _converse(conversations, bot, settings, texts, verbose and not repeat)
        outcomes = outcomes or counts
        times = {key: min(ms, times.get(key, ms)) for key, ms in took.items()}
    by_language: dict[str, list[float]] = defaultdict(list)
    for (language, _, _), ms in times.items():
        by_language[language].append(ms)
    return {language: defaultdict(int, counts, ms=by_language[language])
            for language, counts in outcomes.items()}


def _converse(conversations: list[dict], bot, settings, texts: Texts,
              verbose: bool) -> tuple[dict, dict]:
    """One run of every conversation, with a fresh store: outcomes and times per turn."""
    detector = LanguageDetector()  # judges the replies, knowing no names
    outcomes: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    took: dict[tuple, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(str(Path(tmp) / "eval.sqlite3"))
        store.ensure_schema()
        chat = ChatManager(store, bot, settings.history_limit, texts, bot.detector)
        for conversation in conversations:
            language = conversation["lang"]
            conversation_id = store.sessions.get_or_create(f"eval-{conversation['id']}")
            for number, turn in enumerate(conversation["turns"]):
                started = time.perf_counter()
                reply = chat.generate_response(turn["text"], conversation_id).content
                took[language, conversation["id"], number] = (
                    time.perf_counter() - started) * 1000
                verdict = judge(turn["expect"], reply, language, texts)
                counts = outcomes[language]
                counts[verdict] += 1
                if verdict == "right":  # how much a person reads to find it, on a phone
                    counts.setdefault("right_chars", []).append(len(reply))
                counts["cross_" + verdict] += bool(turn.get("cross"))
                replied_in = reply_language(reply, texts, detector)
                counts["language_ok"] += replied_in == language
                if verbose and replied_in != language:
                    print(f"  {conversation['id']} replied in {replied_in}: {turn['text']!r} -> "
                          f"{reply[:60]!r}", file=sys.stderr)
                counts["turns"] += 1
                if verbose and verdict in ("wrong", "false_refusal", "not_refused",
                                           "social_missed"):
                    print(f"  {conversation['id']} {verdict}: {turn['text']!r} -> "
                          f"{reply[:90]!r}", file=sys.stderr)
        store.close()
    return outcomes, took


def report(name: str, results: dict) -> None:
    """One table per set: a row per language."""
    print(f"\n{name}")
    print(f"{'':4}{'right':>8}{'false ref':>10}{'wrong':>7}{'refused':>9}{'social':>8}"
          f"{'lang ok':>9}{'cross':>7}{'chars':>7}{'p50 ms':>8}{'p95 ms':>8}")
    for language, c in sorted(results.items()):
        answerable = c["right"] + c["false_refusal"] + c["wrong"]
        out_of_scope = c["refused"] + c["not_refused"]
        social = c["social_ok"] + c["social_missed"]
        cross = c["cross_right"] + c["cross_false_refusal"] + c["cross_wrong"]
        ms = sorted(c["ms"])
        print(f"{language:4}{_pct(c['right'], answerable):>8}"
              f"{_pct(c['false_refusal'], answerable):>10}{_pct(c['wrong'], answerable):>7}"
              f"{_pct(c['refused'], out_of_scope):>9}{_pct(c['social_ok'], social):>8}"
              f"{_pct(c['language_ok'], c['turns']):>9}{_pct(c['cross_right'], cross):>7}"
              f"{statistics.median(c['right_chars'] or [0]):>7.0f}"
              f"{statistics.median(ms):>8.1f}{ms[int(0.95 * (len(ms) - 1))]:>8.1f}")
        print(f"{'':4}n={c['turns']}: {answerable} answerable ({cross} cross-language), "
              f"{out_of_scope} out of scope, {social} social")


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def set_path(name: str) -> Path:
    """A set given as a path, or by its name among the shipped ones ("surf")."""
    path = Path(name)
    if not path.exists() and (HERE / f"{name}.jsonl").exists():
        return HERE / f"{name}.jsonl"
    return path


def main(argv: list[str] | None = None) -> None:
    """Run each set against its knowledge folder and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=set_path, default=sorted(HERE.glob("*.jsonl")),
                        help="sets to run, as paths or by name (surf); default: every set")
    parser.add_argument("--knowledge", default=None,
                        help="the knowledge folder (default: the set's own folder beside it, "
                             "else the shipped knowledge base)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per set; each answer's time is the least of them")
    parser.add_argument("--sweep", action="store_true",
                        help="calibrate: the outcomes at each relevance threshold")
    parser.add_argument("--slips", action="store_true",
                        help="each conversation's first message as typed, then with a letter "
                             "of its longest word dropped, then with two swapped")
    args = parser.parse_args(argv)
    # The sets ask for a person on purpose: the team's warning for each is not news here.
    logging.getLogger("app.services.chat").setLevel(logging.ERROR)
    slipped: dict = {}
    every: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for path in args.sets:
        own = path.with_suffix("")
        knowledge = args.knowledge or (str(own) if own.is_dir() else DEFAULT_KNOWLEDGE_DIR)
        if args.sweep:
            sweep(path, knowledge)
        elif args.slips:
            slips(path, knowledge, slipped)
        else:
            results = run(path, knowledge, args.verbose, repeats=max(1, args.repeat))
            report(f"{path.name} against {knowledge}", results)
            add_up(every, results)
    if len(args.sets) > 1 and slipped:
        print_slips("every set", slipped)
    if len(args.sets) > 1 and every:
        report(f"every set ({len(args.sets)}), each message counted once", every)


def add_up(total: dict, results: dict) -> None:
    """`results` of one set added to `total`: counts summed, lists (times, lengths) joined."""
    for language, counts in results.items():
        for key, value in counts.items():
            if isinstance(value, list):
                total[language].setdefault(key, []).extend(value)
            else:
                total[language][key] += value


SLIPS = {"as typed": lambda word, i: word,
         "dropped": lambda word, i: word[:i] + word[i + 1:],
         "swapped": lambda word, i: word[:i] + word[i + 1] + word[i] + word[i + 2:]}


def slip(text: str, kind: str) -> str | None:
    """`text` with a slip of `kind` in the middle of its longest word of five letters or
    more; None when it has none."""
    found = [m for m in re.finditer(r"[^\W\d_]{5,}", text)]
    if not found:
        return None
    longest = max(found, key=lambda m: len(m.group()))
    word = longest.group()
    return text[:longest.start()] + SLIPS[kind](word, len(word) // 2) + text[longest.end():]


def slips(path: Path, knowledge: str, total: dict | None = None) -> None:
    """Right answers and refused out-of-scope questions, per language, for each conversation's
    first message as typed and with a slip in its longest word (those that have one); added
    to `total` too."""
    settings = load_settings({"KNOWLEDGE_DIR": knowledge})
    texts = Texts(settings.replies)
    bot = make_bot(settings, texts)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for conversation in conversations_of(path):
        turn, language = conversation["turns"][0], conversation["lang"]
        if turn["expect"] in SOCIAL or slip(turn["text"], "dropped") is None:
            continue
        for kind in SLIPS:
            reply = bot.answer(slip(turn["text"], kind), [], language)
            outcome = judge(turn["expect"], reply, language, texts)
            row = counts[language, kind]
            if turn["expect"] == "refuse":
                row[2] += outcome == "refused"
                row[3] += 1
            else:
                row[0] += outcome == "right"
                row[1] += 1
    print_slips(path.name, counts)
    for key, row in counts.items():
        if total is not None:
            total[key] = [a + b for a, b in zip(total.get(key, [0, 0, 0, 0]), row, strict=True)]


def print_slips(name: str, counts: dict) -> None:
    print(f"\n{name}: first messages, right answers / out of scope refused")
    for (language, kind), (right, answerable, refused, out) in sorted(counts.items()):
        print(f"  {language} {kind:9} {_pct(right, answerable):>5} of {answerable:<3}"
              f" {_pct(refused, out):>5} of {out}")


def sweep(path: Path, knowledge: str) -> None:
    """Right answers and refused out-of-scope questions, both languages, per threshold."""
    print(f"\n{path.name}: min score -> right answers / out of scope refused (es, en)")
    settings = load_settings({"KNOWLEDGE_DIR": knowledge})
    centre = make_bot(settings, Texts()).min_score
    for step in range(-10, 11, 2):
        threshold = round(centre + step / 100, 2)
        results = run(path, knowledge, False, threshold)
        cells = []
        for language in ("es", "en"):
            c = results.get(language, defaultdict(int))
            answerable = c["right"] + c["false_refusal"] + c["wrong"]
            cells.append(f"{_pct(c['right'], answerable):>4} / "
                         f"{_pct(c['refused'], c['refused'] + c['not_refused']):>4}")
        print(f"  {threshold:.2f}   " + "   ".join(cells))


if __name__ == "__main__":
    main()
