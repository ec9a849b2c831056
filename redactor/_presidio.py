"""The bridge to presidio-analyzer, in both directions, imported only when asked for.

Our rules become presidio recognizers for a user's own AnalyzerEngine, and recognizers named
in `[presidio]` run inside our engine after the RE2 scan, with offsets mapped back to bytes.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from presidio_analyzer import (
    AnalysisExplanation,
    AnalyzerEngine,
    EntityRecognizer,
    RecognizerRegistry,
    RecognizerResult,
    predefined_recognizers,
)
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine, NoOpNlpEngine, SpacyNlpEngine

from ._schema import ConfigError

if TYPE_CHECKING:
    from ._config import PresidioSettings
    from ._engine import Finding, Redactor
    from ._rules import Rule

# Findings of added recognizers carry this prefix, so that no rule ID of ours is mistaken.
PRESIDIO_RULE_PREFIX = "presidio:"


class RedactorRecognizer(EntityRecognizer):
    """One redactor rule as a presidio recognizer: RE2 scan, validator and the rule's score."""

    def __init__(
        self, redactor: Redactor, rule: Rule, supported_language: str = "en", by_name: bool = False
    ) -> None:
        self.redactor = redactor
        self.rule = rule
        # Values found by their variable's name (a diagnose traceback's `cvc`) belong to no
        # rule; the first recognizer of their entity reports them.
        self._found_by = {rule.id, f"variable:{rule.entity}"} if by_name else {rule.id}
        super().__init__(
            supported_entities=[rule.entity],
            name=f"redactor.{rule.id}",
            supported_language=supported_language,
        )

    def load(self) -> None:
        """Nothing to load: the rule is compiled with the Redactor."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Return this rule's findings in `text`, with character offsets."""
        if entities and self.rule.entity not in entities:
            return []
        return [
            self._result(finding.start, finding.end)
            for finding in self.redactor.find(text)
            if finding.rule in self._found_by
        ]

    def _result(self, start: int, end: int) -> RecognizerResult:
        name = f"redactor.{self.rule.id}"
        explanation = AnalysisExplanation(
            recognizer=name,
            original_score=self.rule.score,
            textual_explanation=self.rule.description,
        )
        metadata = {
            RecognizerResult.RECOGNIZER_NAME_KEY: name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
        }
        return RecognizerResult(
            self.rule.entity, start, end, self.rule.score, explanation, metadata
        )


def presidio_recognizers(
    redactor: Redactor | None = None, *, language: str = "en"
) -> list[EntityRecognizer]:
    """One presidio recognizer per enabled rule of `redactor` (the default one when None)."""
    if redactor is None:
        from . import default_redactor

        redactor = default_redactor()
    seen: set[str] = set()
    recognizers: list[EntityRecognizer] = []
    for rule in redactor.rules:
        recognizers.append(RedactorRecognizer(redactor, rule, language, rule.entity not in seen))
        seen.add(rule.entity)
    return recognizers


class ExtraAnalyzer:
    """The presidio recognizers named in `[presidio]`, run line by line over raw bytes."""

    def __init__(self, settings: PresidioSettings, source: str = "config") -> None:
        self._settings = settings
        self._source = source
        _check_threshold(settings, source)
        nlp_engine = self._nlp_engine()
        registry = RecognizerRegistry(supported_languages=[settings.language])
        for name in settings.recognizers:
            registry.add_recognizer(self._recognizer(name))
        if not isinstance(nlp_engine, NoOpNlpEngine):
            registry.add_nlp_recognizer(nlp_engine)
        try:
            self._engine = AnalyzerEngine(
                registry=registry,
                nlp_engine=nlp_engine,
                supported_languages=[settings.language],
            )
        except ValueError as error:
            raise ConfigError(source, "presidio.recognizers", str(error)) from None
        self._entities = self._checked_entities()

    def find(self, data: bytes) -> list[Finding]:
        """Findings of the configured recognizers, with byte offsets into `data`."""
        findings: list[Finding] = []
        position = 0
        for line in data.split(b"\n"):
            if line.strip():
                findings += self._find_in_line(line, position)
            position += len(line) + 1
        return findings

    def _find_in_line(self, line: bytes, offset: int) -> list[Finding]:
        from ._engine import Finding  # the engine imports this module: import late

        text = line.decode("utf-8", "surrogateescape")  # one char per invalid byte, 1:1 back
        results = self._engine.analyze(
            text,
            language=self._settings.language,
            entities=self._entities,
            score_threshold=self._settings.score_threshold,
        )
        ascii_only = len(text) == len(line)
        findings = []
        for result in results:
            start = result.start if ascii_only else _byte_offset(text, result.start)
            end = result.end if ascii_only else _byte_offset(text, result.end)
            name = (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY)
            rule = PRESIDIO_RULE_PREFIX + str(name or result.entity_type)
            findings.append(Finding(offset + start, offset + end, rule, result.entity_type))
        return findings

    def _nlp_engine(self) -> NlpEngine:
        language = self._settings.language
        model = self._settings.nlp_model
        if not model:
            return NoOpNlpEngine(models=[{"lang_code": language, "model_name": "none"}])
        # presidio would download a missing model; we never fetch anything.
        if not (Path(model).is_dir() or importlib.util.find_spec(model) is not None):
            raise ConfigError(
                self._source,
                "presidio.nlp_model",
                f"spaCy model {model!r} is not installed (redactor never downloads one; "
                "install its package, or leave nlp_model empty)",
            )
        engine = SpacyNlpEngine(models=[{"lang_code": language, "model_name": model}])
        engine.load()
        return engine

    def _recognizer(self, name: str) -> EntityRecognizer:
        cls: Any = getattr(predefined_recognizers, name, None)
        if not (isinstance(cls, type) and issubclass(cls, EntityRecognizer)):
            raise ConfigError(
                self._source,
                "presidio.recognizers",
                f"{name!r} is not a recognizer class in presidio_analyzer.predefined_recognizers",
            )
        build: Any = cls  # each recognizer class has its own signature
        try:
            return build(supported_language=self._settings.language)  # type: ignore[no-any-return]
        except Exception as error:
            raise ConfigError(
                self._source, "presidio.recognizers", f"{name} cannot be built: {error}"
            ) from None

    def _checked_entities(self) -> list[str] | None:
        wanted = self._settings.entities
        if not wanted:
            return None
        supported = set(self._engine.get_supported_entities(self._settings.language))
        unknown = sorted(set(wanted) - supported)
        if unknown:
            raise ConfigError(
                self._source,
                "presidio.entities",
                f"no configured recognizer finds {unknown} (found: {sorted(supported)})",
            )
        return list(wanted)


def _check_threshold(settings: PresidioSettings, source: str) -> None:
    if not 0.0 <= settings.score_threshold <= 1.0:
        raise ConfigError(source, "presidio.score_threshold", "expected a number from 0 to 1")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogateescape"))
