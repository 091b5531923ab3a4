"""The prompt library: a PromptRef and a language in, a playable WAV path out.

For each prompt the clinic's own recording wins
(``custom_prompts_dir/<lang>/<key>.wav``, or ``<key>_<value>.wav`` for a
dynamic prompt such as ``queue_position_3.wav``); otherwise the text is
spoken offline by espeak-ng and converted by sox to 8 kHz mono 16-bit.
Generated files are cached in ``prompt_cache_dir`` under the SHA-256 of
(audio pipeline, voice, speed, text), so a changed text or voice makes a
new file and an unchanged one is never generated twice, across restarts too.

Generating takes tens of milliseconds per prompt, far too long for the
PJSUA2 thread. So the work is split:

* :meth:`PromptLibrary.warm` generates (blocking). Call it at start-up and
  from a worker thread after the config or the recordings change.
* :meth:`PromptLibrary.resolve` never generates and never touches the disk:
  it looks the prompt up in memory. A prompt not ready yet resolves to the
  same prompt in the clinic's default language, else to a short tone that
  always exists (:attr:`PromptLibrary.fallback`), and is remembered in
  :attr:`PromptLibrary.missing` for :meth:`warm_missing`.

Example:
    >>> lib = PromptLibrary.from_config(cfg)            # doctest: +SKIP
    >>> lib.warm()                                      # worker thread  # doctest: +SKIP
    >>> lib.resolve(PromptRef("greeting"), "pl")        # PJSUA2 thread  # doctest: +SKIP
    PosixPath('/var/lib/clinicbox/prompts/cache/3f9c...wav')
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import struct
import threading
import time
import wave
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from appliance.config import Config
from appliance.errors import PromptError
from appliance.ivr.catalogue import QUEUE_KEYS, PromptCatalogue, dynamic_values, text_sets
from appliance.ivr.prompts import PromptRef
from appliance.ivr.tts import PIPELINE, RATE, EspeakSox, Synthesizer, wav_info

log = logging.getLogger(__name__)

_Slot = tuple[str, tuple[tuple[str, str], ...], str]  # key, params, language


def cache_key(text: str, voice: str, speed: int) -> str:
    """SHA-256 naming a generated prompt (includes the pipeline version)."""
    return hashlib.sha256(f"{PIPELINE}\n{voice}\n{speed}\n{text}".encode()).hexdigest()


@dataclass
class WarmReport:
    """What :meth:`PromptLibrary.warm` did."""

    generated: int = 0
    cached: int = 0
    custom: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def __str__(self) -> str:
        return (
            f"{self.generated} generated, {self.cached} from cache, {self.custom} clinic recordings, "
            f"{len(self.failed)} failed in {self.seconds:.1f} s"
        )


def config_refs(cfg: Config) -> list[PromptRef]:
    """Every prompt the config's flow and queues can ask for."""
    refs: list[PromptRef] = [PromptRef("invalid"), PromptRef("goodbye")]
    for _, node in sorted(cfg.ivr.nodes.items()):
        if node.type == "language" and not node.prompt:
            refs += [PromptRef.of("language_option", language=lang, key=d) for d, lang in sorted(node.options.items())]
        elif node.prompt:
            refs.append(PromptRef(node.prompt))
    for key in QUEUE_KEYS:
        if key == "callback_offer":
            keys = sorted({q.callback_key for q in cfg.queues.values() if q.callback_key})
            refs += [PromptRef.of(key, key=k) for k in keys]
        elif dynamic_values(key) is None:
            refs.append(PromptRef(key))
        else:
            name, values = dynamic_values(key) or ("", [])
            refs += [PromptRef.of(key, **{name: v}) for v in values]
    for text_set in text_sets():  # prompts other packages add (reminder calls)
        refs += text_set.refs(cfg)
    return list(dict.fromkeys(refs))


def write_tone(path: Path, seconds: float = 0.4, hz: float = 440.0) -> None:
    """A short, quiet sine tone: the fallback that exists without any program."""
    frames = int(RATE * seconds)
    data = b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * hz * i / RATE))) for i in range(frames))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with wave.open(str(tmp), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(data)
    tmp.replace(path)


class PromptLibrary:
    """Resolves prompts to WAV files; generates them ahead of time.

    Args:
        catalogue: the texts.
        cache_dir: where generated and converted WAVs live.
        custom_dir: the clinic's recordings, ``<lang>/<key>.wav``.
        voices: espeak-ng voice per language.
        speed: espeak-ng words per minute.
        languages: the languages to prepare.
        default_language: what a missing prompt falls back to.
        refs: the prompts :meth:`warm` prepares by default.
        synthesizer: espeak-ng + sox unless another is injected (tests).

    Raises:
        PromptError: the cache directory cannot be created or written.
    """

    def __init__(
        self,
        catalogue: PromptCatalogue,
        *,
        cache_dir: Path,
        custom_dir: Path,
        voices: Mapping[str, str],
        speed: int,
        languages: Iterable[str],
        default_language: str,
        refs: Iterable[PromptRef] = (),
        synthesizer: Synthesizer | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.cache_dir = Path(cache_dir)
        self.custom_dir = Path(custom_dir)
        self.voices = dict(voices)
        self.speed = speed
        self.languages = list(languages)
        self.default_language = default_language
        self.refs = list(refs)
        self.synthesizer: Synthesizer = synthesizer or EspeakSox()
        self._index: dict[_Slot, Path] = {}
        self._known = self.catalogue.known_keys() | {r.key for r in self.refs}
        self._missing: set[tuple[PromptRef, str]] = set()
        self._lock = threading.Lock()
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            self.fallback = self.cache_dir / "fallback-tone.wav"
            if not self.fallback.exists():
                write_tone(self.fallback)
        except OSError as exc:
            raise PromptError(f"cannot write the prompt cache {self.cache_dir}: {exc}; check paths.state_dir") from exc

    @classmethod
    def from_config(cls, cfg: Config, synthesizer: Synthesizer | None = None) -> PromptLibrary:
        return cls(
            PromptCatalogue.from_config(cfg),
            cache_dir=cfg.prompt_cache_dir,
            custom_dir=cfg.custom_prompts_dir,
            voices=cfg.prompts.tts_voices,
            speed=cfg.prompts.tts_speed,
            languages=cfg.clinic.languages,
            default_language=cfg.clinic.default_language,
            refs=config_refs(cfg),
            synthesizer=synthesizer,
        )

    # -- the PJSUA2 thread ----------------------------------------------
    def resolve(self, ref: PromptRef, language: str) -> Path:
        """The WAV for ``ref`` in ``language`` (``ref.language`` wins); never blocks.

        Returns the prompt, else the same prompt in the default language,
        else :attr:`fallback` (a tone); misses are kept in :attr:`missing`.

        Raises:
            PromptError: ``ref.key`` is no prompt this library knows of at all.
        """
        lang = ref.language or language
        path = self._index.get((ref.key, ref.params, lang))
        if path is not None:
            return path
        if ref.key not in self._known:
            raise PromptError(f"unknown prompt {ref.key!r}; add its text under [prompts.texts] or record it")
        with self._lock:
            first = (ref, lang) not in self._missing
            self._missing.add((ref, lang))
        if first:
            log.warning("prompt %s in %s is not ready; playing a fallback until it is generated", ref, lang)
        return self._index.get((ref.key, ref.params, self.default_language), self.fallback)

    @property
    def missing(self) -> frozenset[tuple[PromptRef, str]]:
        with self._lock:
            return frozenset(self._missing)

    def ready(self, ref: PromptRef, language: str) -> bool:
        return (ref.key, ref.params, ref.language or language) in self._index

    # -- worker threads ------------------------------------------------------
    def warm(
        self,
        keys: Iterable[str | PromptRef] | None = None,
        languages: Iterable[str] | None = None,
        workers: int = 2,
    ) -> WarmReport:
        """Prepare prompts so :meth:`resolve` finds them. Blocking; not on PJSUA2.

        Args:
            keys: prompt keys (a dynamic key means all its values) or exact
                references; ``None`` = every prompt the config uses.
            languages: ``None`` = the clinic's languages. References that
                carry their own language are prepared in that language only.
            workers: parallel espeak-ng/sox runs.

        Returns:
            counts of generated, cached and custom prompts, and failures (a
            failure does not stop the others).
        """
        langs = list(languages) if languages is not None else self.languages
        refs = self.refs if keys is None else self._expand(keys)
        slots = [(ref, lang) for ref in refs for lang in ([ref.language] if ref.language else langs)]
        return self._prepare_all(slots, workers)

    def warm_missing(self, workers: int = 2) -> WarmReport:
        """Prepare what :meth:`resolve` could not find."""
        with self._lock:
            slots = sorted(self._missing, key=str)
        return self._prepare_all(slots, workers)

    def prune(self) -> int:
        """Delete cached files no prepared prompt uses (after text changes)."""
        keep = {p.resolve() for p in self._index.values()} | {self.fallback.resolve()}
        removed = 0
        for path in self.cache_dir.glob("*.wav"):
            if path.resolve() not in keep:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def _expand(self, keys: Iterable[str | PromptRef]) -> list[PromptRef]:
        refs: list[PromptRef] = []
        for key in keys:
            if isinstance(key, PromptRef):
                refs.append(key)
                continue
            dyn = dynamic_values(key)
            if dyn is None:
                refs.append(PromptRef(key))
            else:
                refs += [PromptRef.of(key, **{dyn[0]: v}) for v in dyn[1]]
            self._known.add(key)
        return refs

    def _prepare_all(self, slots: list[tuple[PromptRef, str]], workers: int) -> WarmReport:
        report = WarmReport()
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="prompt-warm") as pool:
            results = list(pool.map(lambda slot: self._prepare_one(*slot), slots))
        for (ref, lang), (kind, error) in zip(slots, results, strict=True):
            if error:
                report.failed.append(f"{ref} in {lang}: {error}")
            else:
                setattr(report, kind, getattr(report, kind) + 1)
                with self._lock:
                    self._missing.discard((ref, lang))
        report.seconds = time.monotonic() - started
        if report.failed:
            log.warning("prompts: %s; first failure: %s", report, report.failed[0])
        else:
            log.info("prompts: %s", report)
        return report

    def _prepare_one(self, ref: PromptRef, lang: str) -> tuple[str, str]:
        """Make one prompt ready: ``(kind, "")`` or ``("", error message)``."""
        slot = (ref.key, ref.params, lang)
        try:
            recording = self.custom_dir / lang / f"{ref.file_stem}.wav"
            if recording.is_file():
                self._index[slot] = self._telephone_copy(recording)
                return "custom", ""
            text = self.catalogue.text(ref, lang)
            voice = self.voices.get(lang)
            if not voice:
                raise PromptError(f"no espeak-ng voice for {lang!r}; set prompts.tts_voices.{lang}")
            out = self.cache_dir / f"{cache_key(text, voice, self.speed)}.wav"
            kind = "cached"
            if not _usable(out):
                self.synthesizer.synthesize(text, voice, self.speed, out)
                kind = "generated"
            self._index[slot] = out
            return kind, ""
        except PromptError as exc:
            return "", str(exc)

    def _telephone_copy(self, recording: Path) -> Path:
        """The recording itself if already 8 kHz mono 16-bit, else a converted copy.

        WAVs Python's ``wave`` cannot read (24-bit extensible, float) go to sox.
        """
        try:
            if wav_info(recording).telephone_ready:
                return recording
        except PromptError:
            pass
        stat = recording.stat()
        digest = hashlib.sha256(f"{PIPELINE}\n{recording}\n{stat.st_size}\n{stat.st_mtime_ns}".encode()).hexdigest()
        out = self.cache_dir / f"rec-{digest}.wav"
        if not _usable(out):
            self.synthesizer.convert(recording, out)
        return out


def _usable(cached: Path) -> bool:
    """A cached prompt PJSUA2 can play: present and a whole WAV. A power cut can leave a
    file the box wrote just before it empty or cut short; such a file is made again."""
    try:
        return cached.exists() and wav_info(cached).frames > 0
    except PromptError:
        return False
