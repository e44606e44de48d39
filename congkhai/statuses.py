"""An employer's statuses by name: the words every rule, file and page shares, with nothing else
imported, so a rule can be read (and imported) without the storage or a web framework."""

COMPLIANT = "compliant"
LATE = "late"
DELINQUENT = "delinquent"
EVADING = "evading"
# Crossed into the offender list but not yet listed: the notice period before naming (rules/notices.py).
NOTICE = "notice"
STATUSES = (COMPLIANT, LATE, NOTICE, DELINQUENT, EVADING)
OFFENDER_STATUSES = (DELINQUENT, EVADING)
