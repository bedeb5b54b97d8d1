"""The CQC's published care directory: what the regulator says of a listing's location.

`care_directory` reads the CQC's "care directory with ratings" file and stores its locations
(`models.CqcLocation`); `checks` matches listings to them by CQC location ID and finds the
listings the council should look at (ID unknown, deregistered, or rated differently from the
provider's claim); `cli` is `flask cqc import FILE`. No Flask request code.
"""
