"""The register's tables bound to Flask-SQLAlchemy for the portal's requests: the core's own
metadata (congkhai.models), so the models stay plain SQLAlchemy and the core imports no Flask."""
from flask_sqlalchemy import SQLAlchemy

from congkhai.models import metadata

db = SQLAlchemy(metadata=metadata)
