"""Dispute detection: named rules over records, geometry and imagery; flags, risk, cases.

One module per rule family (``records``, ``imagery``, ``spatial``); each rule is a
function registered under its id in :data:`landgov.disputes.rules.DETECTORS` and described
(severity, weight, thresholds, English and Urdu explanation) by a row of ``dispute_rule``.
:mod:`landgov.disputes.scan` runs them, stores flags once per subject and opens cases.
"""
