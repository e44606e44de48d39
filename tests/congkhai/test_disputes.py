"""Disputes storage and rules, on SQLite and PostgreSQL: references, plain text, the open cap,
look-ups that need the employer's code, resolutions, and the "disputed since" mark."""
from datetime import date, datetime, timedelta, timezone

import pytest

from congkhai import disputes
from congkhai.config import Paths
from congkhai.rules.disputes import OPEN, REJECTED, UPHELD, disputed_since
from publisher.store import init_db, make_engine

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
NOW = datetime(2026, 11, 25, 18, 30, tzinfo=timezone.utc)  # 01:30 on 26 November in Vietnam


@pytest.fixture
def engine(db_settings):
    engine = make_engine(db_settings["DATABASE_URL"])
    init_db(engine)
    yield engine
    engine.dispose()


def submission(key="0100233488", reason="Đơn vị đã nộp đủ tiền nợ ngày 12/11/2026, ủy nhiệm chi số 45.",
               attachment=None):
    found, problems = disputes.check_submission(key, key, "Nguyễn Thị Đào", "dao@example.vn", reason, attachment,
                                                1000)
    assert not problems
    return found


def test_references_are_random_typeable_and_read_back_in_any_spelling():
    references = {disputes.new_reference(2026) for _ in range(200)}
    assert len(references) == 200
    for reference in references:
        assert disputes.parse_reference(reference) == reference
        assert not set(reference[8:]) & set("ILOU")
    assert disputes.parse_reference("kn 2026 7k3f 9qxo") == "KN-2026-7K3F-9QX0"
    assert disputes.parse_reference("KN-2026-7K3F-9QXL") == "KN-2026-7K3F-9QX1"
    assert disputes.parse_reference("KN-2026-7K3F-9QX") is None
    assert disputes.parse_reference("KN-2026-7K3F-9QXU") is None
    assert disputes.parse_reference("0100233488") is None


@pytest.mark.parametrize("raw, plain", [
    ("Đã nộp <b>đủ</b> tiền", "Đã nộp đủ tiền"),
    ("<script>alert('x')</script>Nội dung", "Nội dung"),
    ("&lt;img src=x onerror=alert(1)&gt;Sai số tiền", "Sai số tiền"),
    ("a < b và 5 > 3", "a < b và 5 > 3"),
    ("Dòng một\r\n\r\n\r\n\r\nDòng hai\u202e", "Dòng một\n\nDòng hai"),
    ("Nguye\u0302\u0303n", "Nguyễn"),  # NFD in, NFC out
])
def test_plain_text_keeps_no_html(raw, plain):
    assert disputes.plain_text(raw) == plain


def test_attachments_are_sniffed_not_believed():
    assert disputes.sniff_type(PDF) == "application/pdf"
    assert disputes.sniff_type(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert disputes.sniff_type(b"\xff\xd8\xff\xe0....") == "image/jpeg"
    assert disputes.sniff_type(b"<html><body>not a pdf") is None
    _, problems = disputes.check_submission("0100233488", "0100233488", "An", "0912345678", "x" * 30,
                                            b"MZ\x90\x00 an executable", 1000)
    assert problems == {"attachment": "attachment_type"}
    _, problems = disputes.check_submission("0100233488", "0100233488", "An", "0912345678", "x" * 30,
                                            PDF + b"0" * 1000, 1000)
    assert problems == {"attachment": "attachment_too_big"}


def test_submission_problems_name_their_fields():
    _, problems = disputes.check_submission("0100233488", "0101234567", "", "not a contact", "short", None, 1000)
    assert problems == {"tax_code": "tax_code_mismatch", "contact_name": "name_missing",
                        "contact": "contact_invalid", "reason": "reason_too_short"}
    _, problems = disputes.check_submission("0100233488", None, "An", "+84 912 345 678", "x" * 4001, None, 1000)
    assert problems == {"tax_code": "tax_code_invalid", "reason": "reason_too_long"}


def test_the_mark_is_the_oldest_open_dispute():
    assert disputed_since([]) is None
    assert disputed_since([(REJECTED, date(2026, 1, 1)), (UPHELD, date(2026, 2, 1))]) is None
    assert disputed_since([(OPEN, date(2026, 3, 5)), (OPEN, date(2026, 3, 1)), (REJECTED, date(2026, 1, 1))]) \
        == date(2026, 3, 1)


def test_open_look_up_and_list(engine, db_settings):
    with engine.begin() as conn:
        reference = disputes.open_dispute(conn, submission(attachment=PDF), NOW, 3, db_settings["CONGKHAI_DATA_DIR"])
    assert reference.startswith("KN-2026-")
    stored = Paths(db_settings["CONGKHAI_DATA_DIR"]).disputes / reference / "attachment.pdf"
    assert stored.read_bytes() == PDF
    with engine.connect() as conn:
        found = disputes.get_dispute(conn, reference.lower())
        assert found["status"] == OPEN and found["opened_on"] == date(2026, 11, 26)  # the Vietnam date
        assert found["contact"] == "dao@example.vn" and found["attachment_bytes"] == len(PDF)
        public = disputes.dispute_of_employer(conn, reference, "0100233488")
        assert public["status"] == OPEN and "contact" not in public and "reason" not in public
        assert disputes.dispute_of_employer(conn, reference, "0101234567") is None  # the reference alone says nothing
        assert [d["reference"] for d in disputes.list_disputes(conn, OPEN)] == [reference]
        assert disputes.list_disputes(conn, UPHELD) == []
        assert disputes.disputed_since_by_key(conn) == {"0100233488": date(2026, 11, 26)}


def test_open_disputes_are_capped_per_employer(engine, db_settings):
    with engine.begin() as conn:
        for _ in range(2):
            disputes.open_dispute(conn, submission(), NOW, 2, db_settings["CONGKHAI_DATA_DIR"])
        with pytest.raises(disputes.TooManyOpenDisputes):
            disputes.open_dispute(conn, submission(), NOW, 2, db_settings["CONGKHAI_DATA_DIR"])
        disputes.open_dispute(conn, submission(key="0101234567"), NOW, 2, db_settings["CONGKHAI_DATA_DIR"])


def test_resolutions_end_the_mark_and_an_upheld_one_leads_to_a_correction(engine, db_settings):
    data_dir = db_settings["CONGKHAI_DATA_DIR"]
    with engine.begin() as conn:
        first = disputes.open_dispute(conn, submission(), NOW, 3, data_dir)
        second = disputes.open_dispute(conn, submission(), NOW + timedelta(days=2), 3, data_dir)
    later = NOW + timedelta(days=5)
    with engine.begin() as conn:
        found, correction = disputes.resolve_dispute(conn, first, UPHELD, "Đã nộp đủ <i>ngày</i> 12/11.", later,
                                                     "compliant", date(2026, 11, 12))
        assert found["status"] == UPHELD and found["resolution_note"] == "Đã nộp đủ ngày 12/11."
        assert correction == disputes.CorrectionRequest("0100233488", first, "Đã nộp đủ ngày 12/11.", "compliant",
                                                        date(2026, 11, 12))
    with engine.connect() as conn:
        assert disputes.disputed_since_by_key(conn) == {"0100233488": date(2026, 11, 28)}
        stored = disputes.get_dispute(conn, first)
        assert stored["corrected_status"] == "compliant" and stored["corrected_from"] == date(2026, 11, 12)
    with engine.begin() as conn:
        with pytest.raises(disputes.DisputeError, match="already upheld"):
            disputes.resolve_dispute(conn, first, REJECTED, "again", later)
        with pytest.raises(disputes.DisputeError, match="only be given when the dispute is upheld"):
            disputes.resolve_dispute(conn, second, REJECTED, "no", later, "compliant", date(2026, 11, 12))
        with pytest.raises(disputes.DisputeError, match="note"):
            disputes.resolve_dispute(conn, second, REJECTED, "  <b></b> ", later)
        with pytest.raises(disputes.DisputeError, match="together"):
            disputes.resolve_dispute(conn, second, UPHELD, "yes", later, "compliant")
        found, correction = disputes.resolve_dispute(conn, second, REJECTED, "Số liệu đúng.", later)
        assert correction is None
    with engine.connect() as conn:
        assert disputes.disputed_since_by_key(conn) == {}
