import csv
import re
import io
import json
import zipfile

import frictionless
import pytest
from lxml import etree
from openpyxl import load_workbook

from congkhai.provinces import all_provinces
from congkhai.rules.results import FUNDS, REPORTED_APART, daily_results
from congkhai.signing import generate_key, verify_signature
from congkhai.text import nfc
from publisher import package
from congkhai.release_format import verify_release
from publisher.xlsx import Workbook
from congkhai.text import neutralise
from congkhai.release_format import DATAPACKAGE, SIGNATURE, SUMS
from publisher.package import write_release_files
from publisher.tables import TABLES, column_names, load_schema

from .release_sample import (AS_OF, BIG, COMBINED, CREATED, FORMULA_NAMES, HOUSEHOLD_NUMBER, NFD_NAME, REMOVED,
                             TOTAL_ONLY, WITH_INTEREST, built_release, records)

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def signer(tmp_path):
    return generate_key(tmp_path / "keys" / "signing.key")


def write(tmp_path, settings, signer, name="release", built=None, **kwargs):
    out = tmp_path / name
    out.mkdir()
    kwargs.setdefault("removed", {REMOVED.key: REMOVED})
    result = write_release_files(built or built_release(), out, settings, signer, "2026-11-24", **kwargs)
    return out, result


@pytest.fixture
def release(tmp_path, settings, signer):
    return write(tmp_path, settings, signer)


def read_csv(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_frictionless_validates_the_package_with_hashes_and_foreign_keys(release):
    out, _ = release
    report = frictionless.validate(out / DATAPACKAGE)
    assert report.valid, report.flatten(["resourcePath", "rowNumber", "fieldName", "type", "note"])
    descriptor = json.loads((out / DATAPACKAGE).read_text(encoding="utf-8"))
    employers = next(r for r in descriptor["resources"] if r["name"] == "employers")
    assert employers["hash"].startswith("sha256:") and employers["bytes"] == (out / "employers.csv").stat().st_size
    delinquent = next(r for r in descriptor["resources"] if r["name"] == "delinquent")
    assert delinquent["schema"]["foreignKeys"] == [
        {"fields": "key", "reference": {"resource": "employers", "fields": "key"}}]


def test_frictionless_notices_an_altered_resource(release):
    out, _ = release
    path = out / "evading.csv"
    path.write_bytes(path.read_bytes().replace(b"evading,", b"evadinG,", 1))
    report = frictionless.validate(out / DATAPACKAGE)
    assert not report.valid
    assert "hash-count" in {row[0] for row in report.flatten(["type"])}


def test_datapackage_metadata(release, settings):
    out, result = release
    descriptor = json.loads((out / DATAPACKAGE).read_text(encoding="utf-8"))
    assert descriptor["name"] == "congkhai-2026-11-25"
    assert descriptor["version"] == "2026.11.25"
    assert descriptor["created"] == "2026-11-25T11:00:00Z"
    assert "25/11/2026" in descriptor["title"] and descriptor["title_en"].endswith("2026-11-25")
    assert descriptor["licenses"] == [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/",
                                       "title": "Creative Commons Attribution 4.0 International"}]
    assert descriptor["policy"]["delinquent_min_months"] == 3
    assert descriptor["release"]["previous"] == "2026-11-24"
    assert descriptor["release"]["counts"]["offenders"] == 7
    assert descriptor["release"]["signing_key_id"] == result["signing_key_id"]
    assert len(descriptor["sources"]) == 34
    for resource in descriptor["resources"]:
        assert resource["encoding"] == "utf-8" and resource["format"] and resource["mediatype"]
        assert resource["title"] and resource["title_en"]
        for field in resource.get("schema", {}).get("fields", []):
            assert field["title"] and field["title_en"] and field["description"] and field["description_en"]
    assert result["index_entry"]["datapackage_sha256"] == result["files"][DATAPACKAGE]


def test_licence_comes_from_settings(tmp_path, settings, signer):
    settings = dict(settings, CONGKHAI_LICENSE="CC0-1.0")
    out, _ = write(tmp_path, settings, signer)
    licence = json.loads((out / DATAPACKAGE).read_text(encoding="utf-8"))["licenses"][0]
    assert licence["name"] == "CC0-1.0" and "publicdomain/zero" in licence["path"]


def test_csv_columns_follow_the_schemas(release):
    out, result = release
    for resource, spec in TABLES.items():
        with (out / spec[0]).open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
        assert header == column_names(resource)
        assert len(read_csv(out / spec[0])) == result["tables"][resource]


def test_shared_fields_are_defined_alike_in_every_schema():
    seen, sums = {}, {}
    for resource in TABLES:
        for field in load_schema(resource)["fields"]:
            if field["name"] in (*REPORTED_APART, "arrears_total") and resource in ("provinces", "results"):
                assert sums.setdefault(field["name"], field) == field, (resource, field["name"])  # sums, alike
                continue
            assert seen.setdefault(field["name"], field) == field, (resource, field["name"])


def test_offender_list_holds_delinquent_and_evading_by_total_arrears(release):
    out, _ = release
    rows = read_csv(out / "delinquent.csv")
    assert {row["status"] for row in rows} == {"delinquent", "evading"}
    totals = [int(row["arrears_total"]) for row in rows]
    assert totals == sorted(totals, reverse=True)
    assert [row["rank"] for row in rows] == [str(n) for n in range(1, len(rows) + 1)]
    assert rows[0]["key"] == "0100233488-001" and int(rows[0]["arrears_bhxh"]) == BIG
    assert {row["key"] for row in read_csv(out / "evading.csv")} == {"0301234562", "0100000074"}
    assert {row["key"] for row in read_csv(out / "compliant.csv")} == {"0100233488", "0600000033"}


def test_employers_file_has_status_honour_roll_and_permalinks(release, settings):
    out, _ = release
    rows = {row["key"]: row for row in read_csv(out / "employers.csv")}
    assert len(rows) == 15
    assert rows["0100233488"]["honour_roll"] == "true" and rows["0400000011"]["honour_roll"] == "false"
    assert rows["0100233488-001"]["tax_code"] == "0100233488-001"
    assert rows["0100233488-001"]["permalink"] == settings["CONGKHAI_BASE_URL"] + "/employers/0100233488-001"
    household = rows["HKD0003"]
    assert household["tax_code"] == "001*******23" and household["unit_code"] == "HKD0003"
    assert rows["0301234562"]["evasion_decision_date"] == "2026-03-05"


def test_household_personal_number_appears_in_no_file(release):
    out, _ = release
    for path in out.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        assert HOUSEHOLD_NUMBER.encode() not in data, path
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    assert HOUSEHOLD_NUMBER.encode() not in archive.read(member), (path, member)


def test_changes_file_has_before_and_after_and_names_removed_employers(release):
    out, _ = release
    rows = {row["key"]: row for row in read_csv(out / "changes.csv")}
    removed = rows[REMOVED.key]
    assert removed["name"] == REMOVED.name and removed["change"] == "removed"
    assert removed["resolved"] == "true" and removed["leaving_reason"] == "no_longer_reported"
    assert removed["status_after"] == "" and removed["arrears_delta"] == "-5000000"
    listed = rows["0700000044"]
    assert (listed["newly_listed"], listed["status_before"], listed["status_after"]) == ("true", "late", "delinquent")
    assert (listed["months_late_before"], listed["months_late_after"]) == ("2", "12")
    assert rows["0301234562"]["newly_evading"] == "true"
    assert rows["0312456782"]["change"] == "arrears_changed" and rows["0312456782"]["arrears_delta"] == "1000000"
    assert rows["0800000055"]["change"] == "new"


def test_removed_employer_without_a_name_is_an_error(tmp_path, settings, signer):
    with pytest.raises(ValueError, match=REMOVED.key):
        write(tmp_path, settings, signer, removed={})


def test_provinces_file_counts_every_province(release):
    out, _ = release
    rows = {row["province_code"]: row for row in read_csv(out / "provinces.csv")}
    assert len(rows) == 34
    assert sum(int(row["employers"]) for row in rows.values()) == 15
    hcm = rows["79"]
    assert (hcm["employers"], hcm["late"], hcm["delinquent"], hcm["evading"], hcm["offenders"]) == ("4", "1", "1", "1", "2")
    assert int(hcm["arrears_offenders"]) == 59_000_000 + 9_000_000
    assert rows["48"]["arrears_total"] == str(BIG + 600_000_000 + 70_000_000)


def test_an_unknown_fund_is_an_empty_cell_and_null_never_0(release):
    out, _ = release
    employers = {row["key"]: row for row in read_csv(out / "employers.csv")}
    assert [employers[TOTAL_ONLY][name] for name in FUNDS] == ["", "", ""]
    assert employers[TOTAL_ONLY]["arrears_total"] == "1500000000"            # the report's own total
    assert [employers[COMBINED][name] for name in FUNDS] == ["", "2000000", ""]
    assert employers[COMBINED]["arrears_total"] == "12000000"
    assert employers[TOTAL_ONLY]["arrears_bhtnld"] == employers[TOTAL_ONLY]["interest"] == ""
    listed = read_csv(out / "delinquent.csv")
    assert [row["key"] for row in listed][:2] == ["0100233488-001", TOTAL_ONLY]  # ranked by the total
    assert [listed[1][name] for name in FUNDS] == ["", "", ""]
    lines = {line["key"]: line for line in map(json.loads, (out / "employers.jsonl").read_text("utf-8").splitlines())}
    assert [lines[COMBINED][name] for name in REPORTED_APART] == [None, 2_000_000, None, None, None]
    sheet = list(load_workbook(out / f"congkhai-{AS_OF.isoformat()}.xlsx", read_only=True)["Nợ đọng"].values)
    columns = column_names("delinquent")
    total_only = next(row for row in sheet if row[columns.index("key")] == TOTAL_ONLY)
    assert [total_only[columns.index(name)] for name in FUNDS] == [None, None, None]


def test_interest_and_bhtnld_are_published_apart_and_interest_never_in_the_total(release):
    out, _ = release
    employer = next(row for row in read_csv(out / "employers.csv") if row["key"] == WITH_INTEREST)
    assert (employer["arrears_bhtnld"], employer["interest"]) == ("1000000", "3500000")
    assert employer["arrears_total"] == "50000000"                            # 40 + 7 + 2 + 1 million
    changes = {row["key"]: row for row in read_csv(out / "changes.csv")}
    interest = changes[WITH_INTEREST]
    assert (interest["change"], interest["arrears_delta"]) == ("arrears_changed", "0")
    assert (interest["interest_before"], interest["interest_after"]) == ("3000000", "3500000")
    total_only = changes[TOTAL_ONLY]
    assert total_only["arrears_delta"] == "100000000" and total_only["arrears_total_before"] == "1400000000"
    assert [total_only[f"{name}_{when}"] for name in FUNDS for when in ("before", "after")] == [""] * 6


def test_province_sums_add_the_known_funds_and_count_the_employers_without_a_split(release):
    out, _ = release
    rows = {row["province_code"]: row for row in read_csv(out / "provinces.csv")}
    hai_phong = rows["31"]
    assert [hai_phong[name] for name in REPORTED_APART] == ["40000000", "9000000", "2000000", "1000000", "3500000"]
    assert hai_phong["arrears_total"] == str(1_500_000_000 + 12_000_000 + 50_000_000)
    assert hai_phong["employers_without_fund_split"] == "2"
    hanoi = rows["01"]
    assert hanoi["arrears_bhxh"] != "" and hanoi["arrears_bhtnld"] == hanoi["interest"] == ""  # nobody gives them
    assert hanoi["employers_without_fund_split"] == "0"
    assert rows["04"]["arrears_bhxh"] == "" and rows["04"]["arrears_total"] == "0"             # nobody reported


def test_results_file_holds_unknown_fund_sums_as_empty_cells(tmp_path, settings, signer):
    current = records()
    provinces = [province.code for province in all_provinces()]
    built = built_release(results=daily_results(((r.province_code, r.state()) for r in current), [], provinces))
    out, _ = write(tmp_path, settings, signer, built=built)
    report = frictionless.validate(out / DATAPACKAGE)
    assert report.valid, report.flatten(["resourcePath", "rowNumber", "fieldName", "type", "note"])
    rows = {row["province_code"]: row for row in read_csv(out / "results.csv")}
    assert len(rows) == 34
    assert (rows["31"]["arrears_bhxh"], rows["31"]["employers_without_fund_split"]) == ("40000000", "2")
    assert rows["31"]["interest"] == "3500000" and rows["79"]["interest"] == "" and rows["04"]["arrears_bhyt"] == ""


def test_partial_release_says_which_provinces_are_missing(tmp_path, settings, signer):
    built = built_release(missing_provinces={"04": "thiếu báo cáo"},
                          provinces=[code for code in built_release().provinces if code != "04"])
    out, result = write(tmp_path, settings, signer, built=built)
    rows = {row["province_code"]: row for row in read_csv(out / "provinces.csv")}
    assert rows["04"]["published"] == "false" and rows["04"]["missing_reason"] == "thiếu báo cáo"
    assert rows["01"]["published"] == "true"
    descriptor = json.loads((out / DATAPACKAGE).read_text(encoding="utf-8"))
    assert descriptor["release"]["partial"] is True and result["index_entry"]["partial"] is True
    assert len(descriptor["sources"]) == 33


@pytest.mark.parametrize("text", FORMULA_NAMES + ["\tx", "\rx", "=1+1"])
def test_neutralise_prefixes_formula_starts(text):
    assert neutralise(text) == "'" + text
    assert neutralise("Công ty " + text) == "Công ty " + text


def test_no_csv_cell_starts_a_formula_and_numbers_stay_numbers(release):
    out, _ = release
    for resource, spec in TABLES.items():
        numeric = {f["name"] for f in load_schema(resource)["fields"] if f["type"] == "integer"}
        with (out / spec[0]).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                for name, value in row.items():
                    if name in numeric:
                        assert value == "" or re.fullmatch(r"-?[0-9]+", value), (resource, name, value)
                    else:
                        assert not value.startswith(TRIGGERS), (resource, name, value)
    names = {row["name"] for row in read_csv(out / "employers.csv")}
    assert {"'" + name for name in FORMULA_NAMES} <= names
    hyperlink = next(row for row in read_csv(out / "delinquent.csv") if row["key"] == "0312456782")
    assert hyperlink["address"] == "'=1+1" and hyperlink["enforcement_stage"] == "'@cmd"


def test_json_lines_keep_values_and_types(release):
    out, _ = release
    lines = [json.loads(line) for line in (out / "employers.jsonl").read_text(encoding="utf-8").splitlines()]
    by_key = {line["key"]: line for line in lines}
    assert len(lines) == 15 and list(lines[0]) == column_names("employers")
    assert by_key["0312456782"]["name"] == FORMULA_NAMES[0]
    assert by_key["0100233488-001"]["arrears_bhxh"] == BIG
    assert by_key["0100233488"]["honour_roll"] is True and by_key["0100233488"]["evasion_decision"] is None
    assert by_key["HKD0003"]["tax_code"] == "001*******23"


def test_workbook_is_safe_typed_and_in_vietnamese(release):
    out, result = release
    book = load_workbook(out / f"congkhai-{AS_OF.isoformat()}.xlsx", read_only=True)
    assert book.sheetnames == ["Giới thiệu", "Nợ đọng", "Trốn đóng", "Gương mẫu", "Thay đổi", "Tỉnh thành", "Đính chính"]
    offenders = list(book["Nợ đọng"].values)
    assert offenders[0][:3] == ("Thứ tự", "Mã định danh công khai", "Mã số thuế")
    assert len(offenders) == 1 + result["tables"]["delinquent"]
    assert offenders[1][column_names("delinquent").index("arrears_bhxh")] == BIG
    names = {row[column_names("delinquent").index("name")] for row in offenders[1:]}
    assert nfc(NFD_NAME) in names and "'" + FORMULA_NAMES[0] in names
    for sheet in book.worksheets:
        for row in sheet.values:
            for value in row:
                assert not (isinstance(value, str) and value.startswith(TRIGGERS)), (sheet.title, value)
    with zipfile.ZipFile(out / f"congkhai-{AS_OF.isoformat()}.xlsx") as archive:
        sheets = [archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/")]
    assert not any(b"<f>" in xml for xml in sheets)


def test_workbook_sheets_are_capped_and_say_so(tmp_path, settings, signer, monkeypatch):
    monkeypatch.setattr(package, "XLSX_MAX_ROWS", 2)
    out, result = write(tmp_path, settings, signer)
    assert "Nợ đọng" in result["truncated"]
    book = load_workbook(out / f"congkhai-{AS_OF.isoformat()}.xlsx", read_only=True)
    assert len(list(book["Nợ đọng"].values)) == 3
    intro = [row for row in book["Giới thiệu"].values if row and row[0] == "Nợ đọng"][0]
    assert intro[2] == "2 / 7 (chỉ 2 dòng đầu)" and intro[3] == "delinquent.csv"
    assert len(read_csv(out / "delinquent.csv")) == 7


def test_vietnamese_text_round_trips_as_nfc(release):
    out, _ = release
    composed = nfc(NFD_NAME)
    assert composed != NFD_NAME
    for name in ("employers.csv", "employers.jsonl", "evading.csv", "feeds/changes.atom", "feeds/provinces/79.rss"):
        text = (out / name).read_text(encoding="utf-8")
        assert composed in text and NFD_NAME not in text, name
    employers = {row["key"]: row for row in read_csv(out / "employers.csv")}
    assert employers["0700000044"]["name"] == "đđđ ĐĐĐ Công ty Đông Đô"
    assert employers["HKD0003"]["name"] == "Hộ kinh doanh Đặng Thị Đào"


def test_checksums_list_every_file_and_are_signed(release, signer):
    out, result = release
    sums = (out / SUMS).read_text(encoding="utf-8")
    listed = [line.split("  ", 1)[1] for line in sums.splitlines()]
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert listed == sorted(set(files) - {SUMS, SIGNATURE})
    assert "feeds/changes.atom" in listed and "signing-key.pub.pem" in listed
    assert verify_signature(signer.public_key_pem, sums.encode(), (out / SIGNATURE).read_text())
    assert verify_release(out, signer.public_key_pem) == []
    assert set(result["files"]) == set(listed)


def test_same_release_gives_the_same_bytes(tmp_path, settings, signer):
    first, _ = write(tmp_path, settings, signer, "first")
    second, _ = write(tmp_path, settings, signer, "second")
    assert (first / SUMS).read_bytes() == (second / SUMS).read_bytes()
    assert (first / SIGNATURE).read_bytes() == (second / SIGNATURE).read_bytes()


def test_refuses_a_directory_that_is_not_empty(tmp_path, settings, signer):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "stray.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        write_release_files(built_release(), out, settings, signer, None, removed={REMOVED.key: REMOVED})


def test_csv_is_plain_utf8_without_bom(release):
    out, _ = release
    data = (out / "employers.csv").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert io.StringIO(data.decode("utf-8")).readline().startswith("key,tax_code,")


def test_workbook_parts_are_well_formed_and_cells_typed(release, tmp_path):
    out, _ = release
    path = out / f"congkhai-{AS_OF.isoformat()}.xlsx"
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith((".xml", ".rels")):
                etree.fromstring(archive.read(member))
    sheet = load_workbook(path)["Trốn đóng"]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b and not sheet["A2"].font.b
    decision_date = sheet.cell(2, column_names("evading").index("evasion_decision_date") + 1)
    assert decision_date.is_date and decision_date.value.date().isoformat() == "2026-03-05"


def test_workbook_writer_keeps_text_exact_and_drops_what_xml_cannot_hold(tmp_path):
    book = Workbook(tmp_path / "t.xlsx", CREATED, "Bảo hiểm xã hội")
    sheet = book.add_sheet("Thử")
    sheet.append(["a < b & c > d", " lề ", "dòng\r\nmới", "bell\x07", True, 3.5, None, BIG])
    sheet.close()
    book.close()
    row = next(load_workbook(tmp_path / "t.xlsx", read_only=True)["Thử"].values)
    assert row == ("a < b & c > d", " lề ", "dòng\r\nmới", "bell", True, 3.5, None, BIG)


def test_workbook_written_by_a_second_process_is_the_same(tmp_path, settings, signer, monkeypatch):
    """Large releases write the workbook in a forked process, alongside employers.csv: same bytes."""
    inline, _ = write(tmp_path, settings, signer, name="inline")
    monkeypatch.setattr(package, "PARALLEL_WORKBOOK_MIN", 0)
    forked, _ = write(tmp_path, settings, signer, name="forked")
    assert (forked / "SHA256SUMS").read_bytes() == (inline / "SHA256SUMS").read_bytes()


def test_workbook_sheets_are_typed_from_the_csv_files(release):
    from openpyxl import load_workbook

    out, result = release
    titles = {field["name"]: field["title"] for field in load_schema("delinquent")["fields"]}
    book = load_workbook(out / f"congkhai-{result['id']}.xlsx", read_only=True)
    assert book.sheetnames[0] == "Giới thiệu"
    rows = list(book["Nợ đọng"].iter_rows(values_only=True))
    book.close()
    first = dict(zip(rows[0], rows[1]))
    offenders = read_csv(out / "delinquent.csv")
    assert first[titles["arrears_total"]] == int(offenders[0]["arrears_total"])
    assert first[titles["key"]] == offenders[0]["key"]
    assert len(rows) == len(offenders) + 1


def test_a_formula_start_is_neutralised_in_whichever_text_column_it_stands(tmp_path):
    from publisher.tables import CsvTable as _Table

    table = _Table(tmp_path, "provinces")
    columns = table.columns
    text_columns = [columns[n] for n in table.text_columns]
    assert len(text_columns) >= 2
    plain = {column: 0 for column in columns} | {column: "Hà Nội" for column in text_columns}
    table.write(plain)
    table.write(plain | {text_columns[-1]: "=HYPERLINK(1)", text_columns[0]: "-5"})
    table.close()
    with table.path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [rows[0][c] for c in text_columns] == ["Hà Nội"] * len(text_columns)
    assert rows[1][text_columns[-1]] == "'=HYPERLINK(1)" and rows[1][text_columns[0]] == "'-5"
    assert all(rows[1][c] == "Hà Nội" for c in text_columns[1:-1])
