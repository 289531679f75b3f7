"""The Da Vinci DTR payer endpoints under ``/fhir``: the Questionnaire generated from the
policy, ``$questionnaire-package`` pre-filled from the kept judgement, ``metadata`` and
``$log-questionnaire-errors``."""
