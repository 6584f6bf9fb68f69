"""Hand-made records for the record-of-rights and fard tests, written with plain SQL.

Punjab > Sheikhupura district > Sheikhupura tehsil; two mouzas, settled on 2002-03-01:

* mouza "Kot Test" (hadbast 17), khewat 5 holding khasras ``12//1`` (8-0-0) and
  ``12//2`` (5-0-0), 13-0-0 in all. Settlement: ASLAM 1/2, BUSHRA 1/2. Mutation 41 (sale,
  sanctioned 2010-05-01): ASLAM sells half his share to KAMRAN, so from 2010-05-01
  ASLAM 1/4, BUSHRA 1/2, KAMRAN 1/4.
* mouza "Chak Do" (hadbast 18), khewat 3 holding khasra ``7`` (4-0-0). ASLAM 1/1 since the
  settlement; mutation 7 (mortgage, sanctioned 2015-01-01) gives KAMRAN a mortgage with
  possession of 1/3; mutation 8 (lease, 2018-01-01) leases 1/2 to BUSHRA, written as two
  rows of 1/4 (one per lessor row, as the demo does).

Jamabandi rows of Kot Test: 2006 attested on 2006-07-01, 2010 never attested, 2014
attested on 2014-06-15.

Officers (with postings, for the checks of who reads and issues): TEHSILDAR (Tariq
Mehmood) over the tehsil since 2000; PATWARI_CHAK (Parveen) of the patwar circle of Chak
Do only. Records are written with the owner's engine (the application role writes record
tables only for a bound actor); reading and issuing go through signed-in accounts
(``security_support``).

:func:`backdate_sale` changes the records retroactively: a court decree dated 2004-01-01
moves BUSHRA's 1/2 of khewat 5 to KAMRAN.
"""

from __future__ import annotations

from datetime import date

from records_support import owner_engine
from sqlalchemy import text
from sqlalchemy.engine import Engine

SETTLED = date(2002, 3, 1)
SALE_DAY = date(2010, 5, 1)
MOUZA, OTHER_MOUZA = "Kot Test", "Chak Do"
ASLAM, BUSHRA, KAMRAN, NOBODY = (
    "35401-1111111-1",
    "35401-2222222-2",
    "35401-3333333-3",
    "35401-4444444-5",
)
TEHSILDAR, PATWARI_CHAK = "35202-2000001-1", "35202-2000009-1"

# a 100 m x 80 m rectangle near Sheikhupura; the record area is what counts here
_SQUARE = "MULTIPOLYGON(((73.98 31.71,73.981 31.71,73.981 31.7107,73.98 31.7107,73.98 31.71)))"

_SQL = f"""
INSERT INTO admin_unit (id, level, name, name_ur, parent_id) VALUES
  (1, 'province', 'Punjab', 'پنجاب', NULL),
  (2, 'district', 'Sheikhupura', 'شیخوپورہ', 1),
  (3, 'tehsil', 'Sheikhupura', 'شیخوپورہ', 2),
  (4, 'patwar_circle', 'Chak Do', NULL, 3);
SELECT setval(pg_get_serial_sequence('admin_unit', 'id'), 10);
INSERT INTO mouza (id, tehsil_id, patwar_circle_id, name, name_ur, hadbast_number) VALUES
  (1, 3, NULL, 'Kot Test', 'کوٹ ٹیسٹ', 17), (2, 3, 4, 'Chak Do', 'چک دو', 18);
INSERT INTO officer (id, name, designation, cnic) VALUES
  (1, 'Tariq Mehmood', 'tehsildar', '{TEHSILDAR}'),
  (2, 'Parveen', 'patwari', '{PATWARI_CHAK}');
SELECT setval(pg_get_serial_sequence('officer', 'id'), 10);
INSERT INTO officer_jurisdiction (officer_id, admin_unit_id, valid_from) VALUES
  (1, 3, '2000-01-01'), (2, 4, '2000-01-01');
INSERT INTO party (id, kind, cnic, name, name_ur, guardian_relation, guardian_name, gender)
VALUES
  (1, 'person', '{ASLAM}', 'Muhammad Aslam', 'محمد اسلم', 'son_of', 'Ghulam Rasool', 'male'),
  (2, 'person', '{BUSHRA}', 'Bushra Bibi', 'بشریٰ بی بی', 'daughter_of', 'Ghulam Rasool',
   'female'),
  (3, 'person', '{KAMRAN}', 'Kamran Aslam', 'کامران اسلم', 'son_of', 'Muhammad Aslam', 'male'),
  (4, 'person', '{NOBODY}', 'Nadeem', NULL, NULL, NULL, 'male'),
  (5, 'person', '35401-5555555-5', 'Ghulam Rasool', 'غلام رسول', NULL, NULL, 'male');
INSERT INTO khasra (id, mouza_id, number, murabba, main_number, land_class,
                    record_area_sarsai, unit_system, geom_area_m2, geom, source, created_on)
VALUES
  (1, 1, '12//1', 12, 1, 'nehri', 1440, 'standard', 8000,
   ST_GeomFromText('{_SQUARE}', 4326), 'test', NULL),
  (2, 1, '12//2', 12, 2, 'chahi', 900, 'standard', 8000,
   ST_GeomFromText('{_SQUARE}', 4326), 'test', NULL),
  (3, 2, '7', NULL, 7, 'barani', 720, 'standard', 8000,
   ST_GeomFromText('{_SQUARE}', 4326), 'test', NULL);
INSERT INTO khewat (id, mouza_id, number) VALUES (1, 1, 5), (2, 2, 3);
INSERT INTO khewat_khasra (khewat_id, khasra_id, mouza_id, area_sarsai, valid_from) VALUES
  (1, 1, 1, 1440, '{SETTLED}'), (1, 2, 1, 900, '{SETTLED}'), (2, 3, 2, 720, '{SETTLED}');
INSERT INTO mutation (id, mouza_id, number, type, status, entered_on, verified_on,
                      decided_on, officer_id) VALUES
  (1, 1, 41, 'sale', 'sanctioned', '2010-04-01', '2010-04-15', '{SALE_DAY}', 1),
  (2, 2, 7, 'mortgage', 'sanctioned', '2014-12-01', '2014-12-15', '2015-01-01', 1),
  (3, 2, 8, 'lease', 'sanctioned', '2017-12-01', '2017-12-15', '2018-01-01', 1);
INSERT INTO share (khewat_id, party_id, numerator, denominator, right_type, valid_from,
                   valid_to, created_by_mutation_id, ended_by_mutation_id) VALUES
  (1, 1, 1, 2, 'ownership', '{SETTLED}', '{SALE_DAY}', NULL, 1),
  (1, 2, 1, 2, 'ownership', '{SETTLED}', NULL, NULL, NULL),
  (1, 1, 1, 4, 'ownership', '{SALE_DAY}', NULL, 1, NULL),
  (1, 3, 1, 4, 'ownership', '{SALE_DAY}', NULL, 1, NULL),
  (2, 1, 1, 1, 'ownership', '{SETTLED}', NULL, NULL, NULL),
  (2, 3, 1, 3, 'mortgage_with_possession', '2015-01-01', NULL, 2, NULL),
  (2, 2, 1, 4, 'lease', '2018-01-01', NULL, 3, NULL),
  (2, 2, 1, 4, 'lease', '2018-01-01', NULL, 3, NULL);
INSERT INTO jamabandi (mouza_id, year, attested_by, attested_on) VALUES
  (1, 2006, 1, '2006-07-01'), (1, 2010, NULL, NULL), (1, 2014, 1, '2014-06-15');
SELECT setval(pg_get_serial_sequence('mutation', 'id'), 10);
SELECT setval(pg_get_serial_sequence('party', 'id'), 10);
"""


def build(engine: Engine) -> None:
    """Writes the records described in the module docstring (as the owner)."""
    with owner_engine(engine).begin() as conn:
        conn.exec_driver_sql(_SQL)


def backdate_sale(engine: Engine) -> None:
    """A retroactive change: a court decree dated 2004-01-01 moves BUSHRA's 1/2 of
    khewat 5 (Kot Test) to KAMRAN, written by the owner behind the engine."""
    with owner_engine(engine).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO mutation (id, mouza_id, number, type, status, entered_on,"
                " decided_on, officer_id) VALUES"
                " (9, 1, 99, 'court_decree', 'sanctioned', '2004-01-01', '2004-01-01', 1)"
            )
        )
        conn.execute(
            text(
                "UPDATE share SET valid_to = '2004-01-01', ended_by_mutation_id = 9"
                " WHERE khewat_id = 1 AND party_id = 2"
            )
        )
        conn.execute(
            text(
                "INSERT INTO share (khewat_id, party_id, numerator, denominator, valid_from,"
                " created_by_mutation_id) VALUES (1, 3, 1, 2, '2004-01-01', 9)"
            )
        )
