"""CSV downloads of exactly the filtered view a reader is looking at, safe to open in a spreadsheet."""
from __future__ import annotations

import csv
import io

from flask import Response, stream_with_context

from congkhai.text import neutralise


def csv_response(filename: str, columns: list[tuple[str, str]], rows) -> Response:
    """Stream `rows` (dicts) as UTF-8 CSV with a byte-order mark, so Excel shows the Vietnamese right."""
    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow([header for _, header in columns])
        for count, row in enumerate(rows):
            writer.writerow([_cell(row.get(name)) for name, _ in columns])
            if count % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _cell(value):
    """Dates as ISO, text neutralised against spreadsheet formulas (OWASP), numbers as they are."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return neutralise(value) if isinstance(value, str) else value
