"""Normalised text -> tokens: :func:`_tokenise` (words and punctuation marks, with "its left" read as
"the left of it"), the rewrites of the token list before it is split into clauses (a size and a colour
set off by commas, colours listed after their noun, one colour each after a count, "all different
colours"), and the checks on it (every word known, sizes, one pink agent)."""

from __future__ import annotations

import re

from worldsim.envs.prompt.errors import PromptError
from worldsim.envs.prompt.normalise import _RECORD_KEYS, _normalise
from worldsim.envs.prompt.vocabulary import (
    _AGENT_NOUNS,
    _EVERY,
    _HEADS,
    _PUNCTUATION,
    _SIZES,
    _UNSUPPORTED_MOTIONS,
    _count_value,
    _did_you_mean,
    _kind,
    _vocabulary_help,
)


def _tokenise(text: str) -> list[str]:
    """Words and single punctuation marks or symbols, in order. A region of something named before,
    "its left" or "its top right", is read as "the left of it"."""
    tokens = re.findall(r"[^\W_]+|[^\w\s]", _normalise(text))
    out: list[str] = []
    i = 0
    while i < len(tokens):
        j = i + 1
        while tokens[i] == "its" and j < len(tokens) and _kind(tokens[j]) in ("vert", "horiz"):
            j += 1
        if j > i + 1:
            out += ["the", *tokens[i + 1 : j], "of", "it"]
        else:
            out.append(tokens[i])
        i = j
    return _under_the_slab(_row_of(_right_by(out)))


_RIGHT_BY = frozenset({"above", "below", "beneath", "under", "underneath", "over", "next", "beside", "by", "near"})


def _right_by(tokens: list[str]) -> list[str]:
    """"a ball right above the box", "the agent is right below it", "..., and right below it, a box": "right"
    only stresses the place after it. After a motion ("rolls right under the slab") it is the way the thing
    moves, and is kept."""
    return [t for k, t in enumerate(tokens) if not (
        t == "right" and k < len(tokens) - 1 and tokens[k + 1] in _RIGHT_BY
        and (k == 0 or _kind(tokens[k - 1]) in _HEADS or _kind(tokens[k - 1]) in ("filler", "join")
             or tokens[k - 1] in _PUNCTUATION))]


def _under_the_slab(tokens: list[str]) -> list[str]:
    """"Under it" names the slab when the slab is the last thing named before the clause ("a slab at the
    top and a ball rolling left under it"); so does "under" with nothing after it after a motion, when
    the prompt names a slab ("a slab on the right, a ball passes beneath heading right")."""
    out: list[str] = []
    start = 0  # where the current clause starts in ``out``
    slab = any(_kind(t) == "slab" for t in tokens)
    for k, t in enumerate(tokens):
        if t in _PUNCTUATION or _kind(t) == "join":
            start = len(out) + 1
        after = _kind(tokens[k + 1]) if k + 1 < len(tokens) else None
        if slab and _kind(t) == "under" and out and _kind(out[-1]) == "motion" and (
                after is None or tokens[k + 1] in _PUNCTUATION or after in ("join", "motion", "fast", "slow")):
            out += [t, "the", "slab"]
            continue
        if t == "it" and out and _kind(out[-1]) == "under":
            named = next((_kind(w) for w in reversed(out[:start]) if _kind(w) in _HEADS and w != "one"), None)
            if named == "slab":
                out += ["the", "slab"]
                continue
        out.append(t)
    return out


_ROW_OF_KINDS = frozenset({"num", "size", "color", "badcolor", "shape", "generic", "badshape"})


def _row_of(tokens: list[str]) -> list[str]:
    """"a row of three balls" -> "three balls in a row" (and "a column of ...", "a row of red, green and
    blue boxes"): the things come first, then the line they stand in."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if not (tokens[i] in ("a", "one") and tokens[i + 1 : i + 3] in (["row", "of"], ["column", "of"])):
            out.append(tokens[i])
            i += 1
            continue
        j = i + 3
        while j < len(tokens) and (_kind(tokens[j]) in _ROW_OF_KINDS or (
                tokens[j] in (",", "and") and j + 1 < len(tokens) and _kind(tokens[j + 1]) in ("color", "size"))):
            j += 1
        if j == i + 3 or _kind(tokens[j - 1]) not in ("shape", "generic", "badshape"):
            raise PromptError(f"{' '.join(tokens[i : j + 1])!r}: say what the {tokens[i + 1]} is of, e.g. "
                              f"'a {tokens[i + 1]} of three balls'")
        line = ["in", "a", tokens[i + 1]]
        out += [*tokens[i + 3 : j], *([] if tokens[j : j + 3] == line else line)]  # "... along the top": said after
        i = j
    return out


def _check_vocabulary(tokens: list[str]) -> None:
    """Raise a PromptError naming every word the parser does not know."""
    hidden = next((t for t in tokens if t in ("hidden", "hide", "hides", "hiding")), None)
    if hidden is not None:
        raise PromptError(f"{hidden!r}: a thing hidden at rest is never seen, so no frame could show it; a thing "
                          "may pass under the slab instead ('a red ball rolls under the slab')")
    unknown = [t for t in dict.fromkeys(tokens) if t not in _PUNCTUATION and _kind(t) == "unknown"]
    motion = next((t for t in unknown if t in _UNSUPPORTED_MOTIONS), None)
    why = "" if motion is None else (
        f"{motion!r}: a prompt says how each thing starts, gliding one way at a speed or still (agents start at "
        "rest); what happens next is the physics' to decide, so stopping, turning, falling, jumping or spinning "
        "cannot be asked for. Say which way a thing moves, e.g. 'a red ball rolls left quickly'")
    if motion is not None and all(t in _UNSUPPORTED_MOTIONS for t in unknown):
        raise PromptError(why)
    keys = [t for t, after in zip(tokens, tokens[1:]) if t in _RECORD_KEYS and t in unknown and after in (":", "=")]
    if keys:  # "Color: red." alone, or among words that are not fields of one thing
        raise PromptError(f"{keys[0]!r}: fields describe one thing when they give its shape and nothing else is "
                          "in their sentences, e.g. 'shape: ball; colour: red; position: top left' or 'Shape: ball. "
                          "Colour: red.'; or describe it in words: 'a red ball at the top left'")
    if unknown:
        names = ", ".join(repr(w) + _did_you_mean(w) for w in unknown)
        raise PromptError(f"unknown word{'s' if len(unknown) > 1 else ''} {names}.\n{why + chr(10) * bool(why)}"
                          f"{_vocabulary_help()}")


def _join_adjectives(tokens: list[str]) -> list[str]:
    """Drop the commas between a size and a colour said before their noun: "a big, red ball" is one big red
    ball, "large, cyan, cylinder" one large cyan cylinder. Colours alone keep theirs: "red, green and blue
    balls" are three balls."""
    def adjective(word: str) -> str | None:
        kind = _kind(word)
        return "color" if kind in ("color", "badcolor") else "size" if kind == "size" else None

    out: list[str] = []
    for k, word in enumerate(tokens):
        if word == "," and k + 1 < len(tokens):
            i, kinds = len(out), []  # the adjectives just before, commas between them skipped
            while i > 0 and (out[i - 1] == "," or adjective(out[i - 1])):
                i -= 1
                kinds += [adjective(out[i])] if out[i] != "," else []
            nxt = _kind(tokens[k + 1])
            kinds += [adjective(tokens[k + 1])] if adjective(tokens[k + 1]) else []
            opens = i == 0 or out[i - 1] in _PUNCTUATION or _kind(out[i - 1]) in ("art", "join", "num")
            if kinds and opens and len(set(kinds)) == len(kinds) and (
                    adjective(tokens[k + 1]) or nxt in ("shape", "generic")):
                continue
        out.append(word)
    return out


def _looks_after_the_noun(tokens: list[str]) -> list[str]:
    """Move a colour or size set off by commas after its noun to before it: "a ball, red, and a box, blue" is a
    red ball and a blue box, "a box, big and blue." one big blue box. After a count, as many colours as it
    counts are one each: "three balls, red, green and blue" are "three balls, one red, one green and one blue"."""
    def adjective(k: int) -> bool:
        return 0 <= k < len(tokens) and _kind(tokens[k]) in ("color", "badcolor", "size")

    def run_after(k: int) -> int:  # the end of the adjectives (joined by "and") from k
        while adjective(k) or (tokens[k:k + 1] == ["and"] and adjective(k - 1) and adjective(k + 1)):
            k += 1
        return k

    def closes(k: int) -> bool:  # the run ends the noun's description, not the start of another thing's
        return k == len(tokens) or tokens[k] in _PUNCTUATION or (
            tokens[k] == "and" and k + 1 < len(tokens) and _kind(tokens[k + 1]) in ("art", "num"))

    out = list(tokens)
    k = 0
    while k < len(out) - 2:
        head = k if _kind(out[k]) in ("shape", "generic") and out[k + 1] in (",", ":") else None
        start = k
        while start > 0 and _kind(out[start - 1]) in ("color", "badcolor", "size", "num", "art", "other"):
            start -= 1
        phrase = out[start:k]
        counted = next((_count_value(w) for w in phrase if _kind(w) == "num"), None)
        end = run_after(k + 2) if head is not None else k + 2
        if head is None or end == k + 2:
            k += 1
            continue
        tokens = out  # run_after, closes and adjective read the current tokens
        run = out[k + 2:end]
        said = {_kind(w) for w in phrase}
        plural = out[k].endswith("s") and counted is None  # "balls: red, blue" are a ball each
        if (counted or 1) == 1 and not plural and closes(end) and "and" not in run \
                and not said & {_kind(w) for w in run}:
            out[start:end] = [*phrase, *run, out[k]]  # "a ball, red," → "a red ball"
            k = start + len(phrase) + len(run) + 1
            continue
        colours = _each_of(out, k + 2, counted or 0)
        if colours is not None and not said & {"color", "badcolor"}:
            out[k + 2:colours[-1] + 1] = _one_each(out, k + 2, colours)
        k += 1
    return out


#: Word kinds that may stand between counted things and the colours listed for them, one each ("two balls
#: at the bottom, red and blue", "two balls roll towards each other, red and blue", "... are red and blue").
_SAID_OF_THINGS = frozenset({"prep", "art", "vert", "horiz", "centre", "side", "line", "motion", "pair", "fast",
                             "slow", "around", "other", "filler", "still", "from", "under", "over", "beside"})


def _looks_after_what_is_said(tokens: list[str]) -> list[str]:
    """As many colours as a count counts, after what is said of the things counted, are one each: "two balls
    at the bottom, red and blue" is "..., one red and one blue"; so are colours after "are" ("three balls
    are red, green, blue"), and after "in" for things not counted ("balls in red, green and blue")."""
    out = list(tokens)
    for noun, word in enumerate(out):
        if _kind(word) not in ("shape", "generic") or not word.endswith("s"):
            continue
        k = noun - 1
        while k >= 0 and _kind(out[k]) == "size":
            k -= 1
        counted = k >= 0 and _kind(out[k]) == "num" and out[k] not in _EVERY
        if not counted and k >= 0 and _kind(out[k]) in ("art", "num", "color", "other"):
            continue
        end = noun + 1
        while end < len(out) and (_kind(out[end]) in _SAID_OF_THINGS or out[end] == "each"):
            end += 1
        between = out[noun + 1:end]
        if not counted:
            start = end if between == ["in"] else None  # "balls in red, green and blue"
        elif end < len(out) and out[end] == "," and between:
            start = end + 1  # "two balls at the bottom, red and blue"
        else:
            start = end if between and all(_kind(w) == "filler" for w in between) else None  # "... are red, blue"
        counts = (_count_value(out[k]),) if counted else (3, 2)
        colours = next((c for n in counts if start is not None for c in [_each_of(out, start, n)] if c), None)
        if colours is None:
            continue
        if start > end:  # the place or motion said of them stays
            out[start:colours[-1] + 1] = _one_each(out, start, colours)
        else:  # "are" or "in" gives way to a comma
            out[noun + 1:colours[-1] + 1] = [",", *_one_each(out, start, colours)]
        if not counted:
            out.insert(k + 1, str(len(colours)))
        return _looks_after_what_is_said(out)
    return out


def _each_of(tokens: list[str], k: int, count: int) -> list[int] | None:
    """The places of ``count`` single colours listed from ``k`` ("red, green and blue"), or None."""
    places, i = [], k
    while len(places) < count and i < len(tokens) and _kind(tokens[i]) in ("color", "badcolor"):
        places.append(i)
        i += 1
        if len(places) < count and i < len(tokens) and tokens[i] in (",", "and"):
            i += 1 + (tokens[i] == "," and i + 1 < len(tokens) and tokens[i + 1] == "and")
    ends = i == len(tokens) or tokens[i] in _PUNCTUATION
    return places if len(places) == count and count > 1 and ends else None


def _one_each(tokens: list[str], k: int, colours: list[int]) -> list[str]:
    """The tokens from ``k`` to the last colour, with "one" before each colour."""
    out = []
    for i in range(k, colours[-1] + 1):
        out += ["one", tokens[i]] if i in colours else [tokens[i]]
        if i in colours and i + 1 in colours:
            out.append(",")  # "red green and blue"
    return out


def _check_comparatives(tokens: list[str]) -> None:
    """Refuse "a big ball and a bigger box": with three sizes, bigger than big is no size there is."""
    for word in set(tokens) & {"bigger", "larger", "smaller"}:
        same = next((t for t in tokens if t != word and _SIZES.get(t) == _SIZES[word]), None)
        if same is not None:
            raise PromptError(f"'{same}' and '{word}': sizes are small, medium and large, one each; say e.g. 'a "
                              "medium red ball and a large blue ball'")


_ONE_WORDS = frozenset({"one", "single", "only", "alone", "sole", "lone", "just"})


def _check_one_pink_agent(tokens: list[str]) -> None:
    """ "One pink robot", "only a pink agent", "a single agent, pink": one agent, and pink. A scene always has
    the white agent and the pink one is its second, so this would draw two agents where the prompt said one."""
    for k, word in enumerate(tokens):  # "two pink agents", "a pink agent and another pink agent"
        if word == "pink" and (tokens[k + 1:k + 2] in (["agents"], ["robots"], ["players"], ["bots"]) or (
                k and tokens[k - 1] == "another")):
            raise PromptError(f"'{' '.join(tokens[max(0, k - 1):k + 2])}': there is one pink agent; two agents are "
                              "the white one and the pink one")
    if {"white", "both", "second", "another", "other", "two", "2"} & set(tokens) or any(
            t.endswith("s") and t[:-1] in _AGENT_NOUNS for t in tokens):
        return
    for k, word in enumerate(tokens):
        if word not in _AGENT_NOUNS:
            continue
        start = max(0, k - 3)
        near = tokens[start:k + 4]
        if "pink" in near and _ONE_WORDS & set(near):
            said = [start + j for j, t in enumerate(near) if t == "pink" or t in _ONE_WORDS] + [k]
            phrase = " ".join(tokens[min(said):max(said) + 1]).replace(" ,", ",")
            raise PromptError(f"{phrase!r}: a scene always has the white agent, and a pink agent is its "
                              "second; for one agent say 'the agent', for two name both, e.g. 'the white agent on "
                              "the left and the pink agent on the right'")


_DIFFERENT = {"colours": "color", "colors": "color", "colour": "color", "color": "color", "shapes": "shape",
              "shape": "shape"}


def _distinct_looks(tokens: list[str]) -> tuple[list[str], frozenset[str]]:
    """Take out "(all) (of) different colours" or "... shapes" ("two balls of different colours", "a box, a
    ball and a cylinder, all different colours"): the things it is said of differ in that, which
    :func:`_fill_objects` keeps when it draws what the prompt left unsaid."""
    out, said = list(tokens), set()
    k = 0
    while k < len(out):
        if out[k] == "different" and out[k + 1:k + 2] and out[k + 1] in _DIFFERENT:
            start = k
            while start > 0 and out[start - 1] in ("all", "each", "of", "in", "with", "are", "is", "and"):
                start -= 1
            tail = next((j for j in range(k + 2, len(out)) if out[j] not in _DIFFERENT and out[j] != "and"), len(out))
            if start > 0 and out[start - 1] == "," and out[tail:tail + 1] in ([], [","], ["."]):
                start -= 1  # ", all different colours" at the end of its list
            end = k + 2
            said.add(_DIFFERENT[out[k + 1]])
            if out[end:end + 1] == ["and"] and out[end + 1:end + 2] and out[end + 1] in _DIFFERENT:
                said.add(_DIFFERENT[out[end + 1]])  # "different shapes and colours"
                end += 2
            out[start:end] = []
            k = start
        else:
            k += 1
    return out, frozenset(said)
