"""The land-records engine: services over the domain core and storage.

- :mod:`~landgov.records.mutations` -- mutation lifecycle and sanctioning (intiqal): the
  front door, which re-exports the API of its parts and maps them:
  :mod:`~landgov.records.drafts`, :mod:`~landgov.records.rows`,
  :mod:`~landgov.records.locks`, :mod:`~landgov.records.inheritance`,
  :mod:`~landgov.records.entry`, :mod:`~landgov.records.partition`,
  :mod:`~landgov.records.decisions`, :mod:`~landgov.records.display`,
  :mod:`~landgov.records.replay`.
- :mod:`~landgov.records.register` -- the register as it states it: settlement shares with
  every sanctioned mutation replayed, which every share rule reads.
- :mod:`~landgov.records.rights` -- the record of rights as of any date.
- :mod:`~landgov.records.jamabandi` -- the jamabandi: a mouza's record of rights for a year,
  generated once and kept immutable.
- :mod:`~landgov.records.snapshot` -- the canonical spelling and hash of a snapshot, shared
  by the record of rights, the jamabandi and fards.
- :mod:`~landgov.records.fard` -- fard (ownership extract) issue and verification; its PDF
  is drawn by :mod:`~landgov.records.fard_pdf` with the fonts of
  :mod:`~landgov.records.fonts`.
- :mod:`~landgov.records.queries` -- reads of the record the dashboard's pages need.

No module here imports another in a circle, nor another's private (``_name``) helpers
(``tests/records/test_module_layout.py``).
"""
