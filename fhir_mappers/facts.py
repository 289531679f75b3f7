"""Plain, typed facts that the mappers read out of FHIR and the rules judge.

Nothing here knows FHIR or Flask. Every field that the record may not tell is
``Optional``: ``None`` means "the record does not say", which the rules turn into
``unknown``, never into ``not met``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Coding:
    system: str | None
    code: str | None
    display: str | None = None


@dataclass(frozen=True)
class Cycle:
    """A treatment cycle such as "days 1-21 of a 28-day cycle" (kept for display)."""

    days_on: int
    cycle_length_days: int


@dataclass(frozen=True)
class LenalidomideOrder:
    """One lenalidomide MedicationRequest (draft or on record)."""

    ref: str  # "MedicationRequest/abc"
    status: str | None
    intent: str | None
    authored_on: datetime | None
    brand: bool | None  # True = Revlimid, False = generic lenalidomide, None = cannot tell
    rxnorm_code: str | None  # the lenalidomide RxNorm code the order carries, if any
    product_display: str | None
    strength_mg: float | None  # per capsule
    daily_dose_mg: float | None
    capsules_per_day: float | None
    dose_per_administration_mg: float | None
    administrations_per_day: float | None
    dose_text: str | None  # a short human rendering of the dosage, for cards
    cycle: Cycle | None
    days_supply: float | None  # the larger of the stated and the computed supply (see dosage)
    quantity: float | None  # dispense quantity (capsules when the unit says so)
    refills: int | None
    reason_codes: tuple[Coding, ...] = ()
    reason_refs: tuple[str, ...] = ()  # "Condition/x"
    identifiers: tuple[Coding, ...] = ()  # system/code=value, e.g. a REMS authorization number
    medication_source: str = "codeableconcept"  # codeableconcept | contained | reference | none
    stated_days_supply: float | None = None  # dispenseRequest.expectedSupplyDuration, in days
    computed_days_supply: float | None = None  # from the quantity and the dose schedule, cycles included


@dataclass(frozen=True)
class MedicationOnRecord:
    """Any MedicationRequest (draft in this session or on the patient's record)."""

    ref: str
    ingredients: frozenset[str]  # normalised ingredient names, e.g. {"dexamethasone"}
    status: str | None
    intent: str | None
    authored_on: datetime | None
    is_draft_order: bool  # in this hook call's draftOrders
    period_start: date | None = None
    period_end: date | None = None
    display: str | None = None
    reason_codes: tuple[Coding, ...] = ()

    @property
    def is_current(self) -> bool:
        """Active or being ordered now (draft), i.e. it counts as concurrent therapy."""
        return self.is_draft_order or self.status in {"active", "on-hold", "draft"}


@dataclass(frozen=True)
class PatientFacts:
    ref: str
    birth_date: date | None
    sex: str | None  # "female" | "male" | "other" | None (unknown)
    # The FHIR birthDate when it gives only a year or a year and month ("1950", "1950-09");
    # ``birth_date`` is then None, and ages are the least the partial date allows.
    birth_date_partial: str | None = None
    # Patient.gender as recorded ("female", "male", "other", "unknown"); None when absent.
    gender_recorded: str | None = None


@dataclass(frozen=True)
class ConditionFacts:
    ref: str
    codes: tuple[Coding, ...]
    text: str | None
    # Counts as a diagnosis on record: clinicalStatus active, recurrence, relapse or remission
    # (or none stated, without an abatement); never refuted or entered-in-error. Not "active
    # disease today": a myeloma in remission on maintenance is on record.
    active: bool
    indications: frozenset[str]  # e.g. {"multiple-myeloma"}; empty when no policy indication
    relapsed: bool | None  # the code itself says "in relapse" (e.g. ICD-10-CM C90.02)
    onset: date | None = None
    recorded: date | None = None
    verification_status: str | None = None  # e.g. "confirmed", "provisional"; None when not stated
    # Disease features the code itself states, e.g. "del-5q" (ICD-10-CM D46.C); see indications.json.
    features: frozenset[str] = frozenset()
    clinical_status: str | None = None  # the clinicalStatus code, lower case; None when not stated
    # The disease is present now (clinicalStatus active, recurrence or relapse, or none stated
    # without an abatement): what a pregnancy on record needs; remission is not.
    current: bool = False


@dataclass(frozen=True)
class PrescriberFacts:
    ref: str | None
    specialty_codes: frozenset[str]  # NUCC taxonomy codes found on Practitioner / PractitionerRole
    specialties: frozenset[str]  # categories: "oncology", "hematology", "immunology"
    known: bool  # False when no Practitioner / PractitionerRole could be read


@dataclass(frozen=True)
class CoverageFacts:
    ref: str
    status: str | None
    line_of_business: str | None  # "medicaid" | "marketplace" | "commercial" | None
    payer_display: str | None = None


@dataclass(frozen=True)
class CaseFacts:
    """Everything the rules may judge about one lenalidomide order."""

    order: LenalidomideOrder
    as_of: date  # the order's date (authoredOn, else today), on which ages are judged
    patient: PatientFacts | None
    age_years: int | None
    conditions: tuple[ConditionFacts, ...]
    prescriber: PrescriberFacts
    medications: tuple[MedicationOnRecord, ...]  # other orders: drafts and the record
    coverage: CoverageFacts | None
    # Names of the data domains that could not be read (prefetch missing and the FHIR
    # server failed), e.g. {"medications"}; rules that need them answer "unknown".
    unavailable: frozenset[str] = field(default_factory=frozenset)
    # True when the birth date is partial (a year, or a year and month) and the patient may
    # be one year older than ``age_years`` (the least possible age) on ``as_of``.
    age_uncertain: bool = False
    # What the record shows for the Lenalidomide REMS; None when not mapped (e.g. unit tests).
    rems: RemsEvidence | None = None
    # Lab results and variant findings the policy judges (hemoglobin, serum EPO, SF3B1 ...).
    observations: tuple[LabObservation, ...] = ()
    # The patient's lenalidomide orders on record (not this order), for section II
    # (continued therapy: how long, and the previous dose).
    prior_lenalidomide: tuple[LenalidomideOrder, ...] = ()
    # Lenalidomide drafts of this request whose schedules overlap this order's, this order
    # included (empty when it stands alone), and the daily dose they add up to (None when a
    # dose is unknown): the ceiling (x.7) is judged on the sum.
    dose_orders: tuple[str, ...] = ()
    combined_daily_dose_mg: float | None = None
    # Answers a person gave on completed DTR forms for this patient and coverage, by clause.
    documentation: tuple[DocumentedAnswer, ...] = ()

    @property
    def daily_dose_mg(self) -> float | None:
        """The daily dose the ceiling is judged on: the overlapping drafts' sum, else this order's."""
        return self.combined_daily_dose_mg if self.dose_orders else self.order.daily_dose_mg


@dataclass(frozen=True)
class DocumentedAnswer:
    """One yes/no a person gave on our DTR Questionnaire (a QuestionnaireResponse item whose
    linkId is a clause id), the newest when several forms answer the same clause."""

    clause: str  # "CP.PHAR.71 I.A.4.c"
    value: bool
    ref: str  # "QuestionnaireResponse/qr1"
    authored: datetime | None = None


@dataclass(frozen=True)
class LabObservation:
    """One Observation the policy can judge, in a canonical unit (see ``data/observations.json``).

    ``kind`` is "hemoglobin" (g/dL), "erythropoietin" (mU/mL), "platelets" (10^9/L) or
    "sf3b1" (a genetic variant assessment of SF3B1: ``present`` True when reported present).
    ``value`` is None when the record gives no usable number (or an unknown unit).
    """

    ref: str
    kind: str
    value: float | None
    unit: str | None
    effective: date | None
    present: bool | None = None


@dataclass(frozen=True)
class PregnancyTest:
    """One pregnancy (hCG) test on record (LOINC codes of the ``loinc_pregnancy_test`` group)."""

    ref: str
    at: datetime | None  # effective instant in UTC
    result: str | None  # "negative" | "positive" | None when the record does not say
    sensitivity_miu_ml: float | None = None  # the test's detection threshold, when the record states it
    # A result was reported in a form the service cannot read (``result`` is then None): the
    # card says so rather than that no test is on record.
    unreadable: bool = False


@dataclass(frozen=True)
class DatedEvidence:
    """A resource on record that shows something (a REMS step, a procedure), and when."""

    ref: str
    at: datetime | None
    value: str | None = None  # e.g. the coded value of a status observation


@dataclass(frozen=True)
class RemsEvidence:
    """What the record shows for the Lenalidomide REMS (see README, "REMS evidence convention").

    Empty tuples mean "nothing on record", which the REMS judge turns into ``unverified``.
    """

    order_at: datetime  # the order's authoredOn instant (UTC), else the time of the call
    order_time_stated: bool  # False when authoredOn is a bare date or absent
    pregnancy_tests: tuple[PregnancyTest, ...] = ()
    pregnancy_status: tuple[DatedEvidence, ...] = ()  # LOINC 82810-3, value "pregnant"/"not-pregnant"/None
    pregnancy_conditions: tuple[str, ...] = ()  # active Conditions coded "Pregnant state" (ICD-10-CM)
    menopause: tuple[DatedEvidence, ...] = ()  # menopausal status, value "post"/"pre"/"peri"/None
    surgical: tuple[DatedEvidence, ...] = ()  # hysterectomy / bilateral-oophorectomy (value names which)
    menstruation_not_started: tuple[DatedEvidence, ...] = ()
    breastfeeding: tuple[DatedEvidence, ...] = ()  # value "yes"/"no"
    steps: tuple[tuple[str, DatedEvidence], ...] = ()  # (step id, evidence) from our convention
    authorization_number: str | None = None
    risk_category_written: str | None = None
    pharmacy_certified: bool | None = None  # None: no performer; False: a performer without our identifier
    prescriber_certified: bool = False
    antithrombotics: tuple[str, ...] = ()  # current anticoagulant/antiplatelet orders, by display
    cbc: tuple[DatedEvidence, ...] = ()  # CBC components on record (LOINC hematology group)
