"""The core imports no web framework (issue 24): a rule, the history queries and the whole publisher
load without Flask, and the status names have one home."""
import subprocess
import sys

from congkhai import models, statuses


def test_the_publisher_and_the_rules_load_without_flask():
    code = ("import sys; import congkhai.rules.classification, congkhai.rules.notices, congkhai.rules.results, "
            "congkhai.register, congkhai.models, publisher.pipeline, publisher.store, publisher.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'flask_sqlalchemy', 'werkzeug')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_models_are_plain_sqlalchemy_and_share_the_status_names():
    assert models.Employer.__table__.metadata is models.metadata
    assert models.STATUSES is statuses.STATUSES and statuses.OFFENDER_STATUSES == ("delinquent", "evading")
