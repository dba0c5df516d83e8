"""The parser's one error, :class:`PromptError`, and the example phrasings its refusals of pushes and
reaches point to."""

from __future__ import annotations


class PromptError(ValueError):
    """A prompt uses a word the parser does not read, or a colour, shape, count or layout that scenes
    cannot represent; the message says which and why."""


_PUSH_FORM = "a push reads e.g. 'the pink agent pushes the red box to the left' or '... into the goal'"
_REACH_FORM = "a reach task reads e.g. 'the white agent goes to the goal' or 'the agent reaches the goal'"
