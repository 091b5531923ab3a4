"""What the engines ask to be played: a prompt key plus its parameters.

Engines never handle audio files. They name a prompt (``greeting``,
``queue_position`` with ``position=3``...) and the switchboard turns the
reference into a WAV path with :meth:`appliance.ivr.library.PromptLibrary.resolve`.
Keeping references as small hashable values makes the engines pure and lets
the library pre-generate exactly the set of references a config can produce.

Example:
    >>> ref = PromptRef.of("queue_position", position=3)
    >>> ref.param("position")
    '3'
    >>> ref.file_stem
    'queue_position_3'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PromptRef:
    """One prompt to play.

    Attributes:
        key: catalogue key (``greeting``) or a clinic recording's name.
        params: sorted ``(name, value)`` pairs filling the text's
            placeholders, e.g. ``(("position", "3"),)``.
        language: speak this prompt in this language instead of the call's
            (a language menu says each option in its own language).
    """

    key: str
    params: tuple[tuple[str, str], ...] = ()
    language: str | None = None

    @classmethod
    def of(cls, prompt_key: str, /, language: str | None = None, **params: object) -> PromptRef:
        """Build a reference; ``params`` may include ``key`` (a phone key)."""
        return cls(prompt_key, tuple(sorted((name, str(value)) for name, value in params.items())), language)

    def param(self, name: str) -> str:
        for key, value in self.params:
            if key == name:
                return value
        raise KeyError(f"prompt {self.key!r} has no parameter {name!r}")

    @property
    def file_stem(self) -> str:
        """Name of a clinic recording for this reference: ``key`` or ``key_value``.

        A clinic may record ``queue_position_3.wav``; parameters join the key
        with ``_`` in name order.
        """
        return "_".join([self.key, *(value for _, value in self.params)])

    def __str__(self) -> str:
        args = ",".join(f"{k}={v}" for k, v in self.params)
        lang = f"@{self.language}" if self.language else ""
        return f"{self.key}({args}){lang}" if args else f"{self.key}{lang}"
