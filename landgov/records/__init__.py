"""The land-records engine: services over the domain core and storage.

- :mod:`~landgov.records.mutations` -- mutation lifecycle and sanctioning (intiqal).
- :mod:`~landgov.records.rights` -- the record of rights as of any date, jamabandi.
- :mod:`~landgov.records.fard` -- fard (ownership extract) PDFs and their verification.
"""
