"""The rules layer: CP.PHAR.71 as data (``data/cp_phar_71.yaml``), a small three-valued
evaluator, and the assessment the cards are built from. No FHIR and no Flask here: the
rules judge the plain facts of ``fhir_mappers.facts``."""
