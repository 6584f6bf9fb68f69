"""The vocabulary of the record of rights, as closed sets of values.

Each enum's values are the exact strings stored in the database; the SQL migrations
carry the same lists as CHECK constraints (a test keeps both in step). Names are the
domain's own words; docs/glossary.md explains them.
"""

from __future__ import annotations

from enum import StrEnum


class AdminLevel(StrEnum):
    """Revenue hierarchy above the mouza (domain.md §1)."""

    PROVINCE = "province"
    DIVISION = "division"
    DISTRICT = "district"
    TEHSIL = "tehsil"
    QANUNGO_HALQA = "qanungo_halqa"
    PATWAR_CIRCLE = "patwar_circle"


class LandClass(StrEnum):
    """Revenue land classes: irrigation source decides most of a parcel's value."""

    NEHRI = "nehri"  # canal-irrigated
    CHAHI = "chahi"  # well/tubewell-irrigated
    BARANI = "barani"  # rain-fed
    BANJAR = "banjar"  # uncultivated (banjar qadeem / jadeed)
    GHAIR_MUMKIN = "ghair_mumkin"  # not cultivable: roads, canals, abadi, graveyards
    ABADI = "abadi"  # village settlement
    SHAMLAT = "shamlat"  # village common land
    FOREST = "forest"


class RightType(StrEnum):
    OWNERSHIP = "ownership"
    MORTGAGE_WITH_POSSESSION = "mortgage_with_possession"
    MORTGAGE_WITHOUT_POSSESSION = "mortgage_without_possession"
    LEASE = "lease"


class MutationType(StrEnum):
    """The core mutation (intiqal) types of domain.md §4."""

    SALE = "sale"  # bai
    INHERITANCE = "inheritance"  # wirasat
    GIFT = "gift"  # hiba
    MORTGAGE = "mortgage"  # rehn
    REDEMPTION = "redemption"  # fak-ul-rehn
    EXCHANGE = "exchange"  # tabadla
    PARTITION = "partition"  # taqseem
    COURT_DECREE = "court_decree"
    LEASE = "lease"


class MutationStatus(StrEnum):
    ENTERED = "entered"
    VERIFIED = "verified"
    SANCTIONED = "sanctioned"
    REJECTED = "rejected"


class PartyKind(StrEnum):
    PERSON = "person"
    STATE = "state"


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


class GuardianRelation(StrEnum):
    """How a person is identified by a relative in the record: wald, bint or zauja."""

    SON_OF = "son_of"  # wald
    DAUGHTER_OF = "daughter_of"  # bint
    WIFE_OF = "wife_of"  # zauja


class Custodian(StrEnum):
    """State bodies that hold land."""

    BOARD_OF_REVENUE = "board_of_revenue"
    FOREST = "forest"
    AUQAF = "auqaf"
    EVACUEE_TRUST = "evacuee_trust"
    IRRIGATION = "irrigation"
    HIGHWAYS = "highways"
    VILLAGE_PROPRIETARY_BODY = "village_proprietary_body"  # shamlat held in common


class StateLandCategory(StrEnum):
    SHAMLAT = "shamlat"
    FOREST = "forest"
    AUQAF = "auqaf"
    EVACUEE = "evacuee"
    CANAL_ROW = "canal_row"  # canal right-of-way
    ROAD_ROW = "road_row"  # road right-of-way


class Season(StrEnum):
    RABI = "rabi"  # winter crop; inspection from about 1 March
    KHARIF = "kharif"  # summer crop; inspection from about 1 October


class Crop(StrEnum):
    WHEAT = "wheat"
    COTTON = "cotton"
    RICE = "rice"
    SUGARCANE = "sugarcane"
    FODDER = "fodder"
    ORCHARD = "orchard"
    FALLOW = "fallow"


class IrrigationSource(StrEnum):
    CANAL = "canal"
    TUBEWELL = "tubewell"
    CANAL_AND_TUBEWELL = "canal_and_tubewell"
    RAIN = "rain"
    NONE = "none"


class Tenancy(StrEnum):
    """How the cultivator in a khatauni holds the land."""

    SELF_CULTIVATION = "self_cultivation"  # khud kasht
    TENANT_AT_WILL = "tenant_at_will"  # ghair maurusi
    OCCUPANCY_TENANT = "occupancy_tenant"  # maurusi
    LESSEE = "lessee"
