"""Domain rules as plain functions: classification, commendation, changes, eligibility. No Flask here."""
