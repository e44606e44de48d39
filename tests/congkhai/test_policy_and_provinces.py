from dataclasses import MISSING, fields

import pytest

from congkhai.config import SETTINGS, load_settings
from congkhai.policy import Policy, PolicyError, load_policy
from congkhai.provinces import all_provinces, by_code, find_province


def test_default_policy():
    policy = load_policy()
    assert policy.delinquent_min_months == 3 and policy.commendation_window_months == 12
    assert policy.eligibility_rule == "evasion_in_force"
    assert load_policy().digest == policy.digest
    assert policy.mojibake == "repair"


def test_mojibake_mode_is_checked(tmp_path):
    from congkhai.policy import DEFAULT_POLICY_PATH

    path = tmp_path / "policy.toml"
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    path.write_text(text.replace('mojibake = "repair"', 'mojibake = "reject"'), encoding="utf-8")
    assert load_policy(path).mojibake == "reject"
    path.write_text(text.replace('mojibake = "repair"', 'mojibake = "ignore"'), encoding="utf-8")
    with pytest.raises(PolicyError, match=rf"{path}: verification.mojibake must be one of repair, reject"):
        load_policy(path)
    path.write_text(text.replace('mojibake = "repair"\n', ""), encoding="utf-8")
    assert load_policy(path).mojibake == "repair"


def test_policy_errors_name_the_file(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text('version = "x"\n[classification]\nmin_arrears_vnd = 1\n', encoding="utf-8")
    with pytest.raises(PolicyError, match=rf"{path}: missing setting 'delinquent_min_months'"):
        load_policy(path)
    with pytest.raises(PolicyError, match="not found"):
        load_policy(tmp_path / "none.toml")


MINIMAL_POLICY = """version = "min"
[classification]
min_arrears_vnd = 1
delinquent_min_months = 3
[commendation]
window_months = 12
[verification]
max_rejected_share = 0.05
[eligibility]
rule = "evasion_in_force"
"""


def test_a_policy_file_without_optional_settings_takes_the_class_defaults(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(MINIMAL_POLICY, encoding="utf-8")
    policy = load_policy(path)
    for setting in fields(Policy):
        if setting.default is not MISSING:
            assert getattr(policy, setting.name) == setting.default, setting.name
    assert policy.totals_optional == []


def test_the_policy_of_a_release_made_before_a_setting_existed_reads_with_the_same_defaults(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(MINIMAL_POLICY, encoding="utf-8")
    recorded = load_policy().to_dict()
    for name in ("notice_days", "resolved_visible_days", "inspection_min_months", "receipt_current_days"):
        del recorded[name]
    old = Policy.from_dict(recorded)
    assert (old.notice_days, old.resolved_visible_days, old.inspection_min_months, old.receipt_current_days) == \
        (15, 30, 3, 30)


def test_a_setting_of_the_wrong_type_names_the_file_and_setting(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(MINIMAL_POLICY.replace("delinquent_min_months = 3", 'delinquent_min_months = "ba"'),
                    encoding="utf-8")
    with pytest.raises(PolicyError, match=rf"{path}: setting 'delinquent_min_months' must be of type int"):
        load_policy(path)


def test_a_releases_recorded_policy_keeps_its_key_order():
    """Every release records its policy, in the database and in datapackage.json, in this order: a
    refactoring that reorders the fields changes every new release's files byte for byte."""
    assert list(load_policy().to_dict())[:10] == [
        "version", "title", "min_arrears_vnd", "delinquent_min_months", "commendation_window_months",
        "commendation_requires_full_history", "max_rejected_share", "control_total_tolerance_vnd",
        "eligibility_rule", "release_every_days"]
    assert list(load_policy().to_dict())[-3:] == ["min_arrears_per_employee_month_vnd", "max_amount_scale_jump",
                                                  "amount_check_min_rows"]


def test_34_provinces_with_unique_codes():
    provinces = all_provinces()
    assert len(provinces) == 34 == len(by_code())
    assert by_code()["01"].name == "Thành phố Hà Nội" and by_code()["79"].short_name == "Hồ Chí Minh"


@pytest.mark.parametrize("title, code", [
    ("BẢO HIỂM XÃ HỘI TỈNH ĐỒNG NAI", "75"),
    ("BẢO HIỂM XÃ HỘI THÀNH PHỐ HỒ CHÍ MINH", "79"),
    ("BHXH TP. Hồ Chí Minh - Tính đến ngày 25/11/2026", "79"),
    ("bao hiem xa hoi tinh dak lak", "66"),
    ("BẢO HIỂM XÃ HỘI VIỆT NAM", None),
])
def test_find_province(title, code):
    found = find_province(title)
    assert (found.code if found else None) == code


def test_settings_have_defaults_and_help(tmp_path):
    values = load_settings(env={"CONGKHAI_DATA_DIR": str(tmp_path)})
    assert values["DATABASE_URL"] == f"sqlite:///{tmp_path / 'congkhai.db'}"
    assert values["CONGKHAI_SIGNING_KEY"] == str(tmp_path / "keys" / "signing.key")
    assert all(s.help for s in SETTINGS)
    with pytest.raises(KeyError):
        load_settings(env={}, NOT_A_SETTING=1)


def test_inspection_and_receipt_settings_are_checked(tmp_path):
    from congkhai.policy import DEFAULT_POLICY_PATH, PolicyError, load_policy

    policy = load_policy()
    assert (policy.inspection_min_months, policy.inspection_publish, policy.receipt_current_days) == (3, "before_visit", 30)
    wrong = tmp_path / "policy.toml"
    wrong.write_text(DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace('publish = "before_visit"',
                                                                             'publish = "whenever"'), encoding="utf-8")
    with pytest.raises(PolicyError, match="inspection.publish"):
        load_policy(wrong)


def test_max_days_ahead_is_read_and_checked(tmp_path):
    from congkhai.policy import DEFAULT_POLICY_PATH, load_schedule

    assert load_schedule().max_days_ahead == 0
    path = tmp_path / "policy.toml"
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    path.write_text(text.replace("max_days_ahead = 0\n", ""), encoding="utf-8")
    assert load_schedule(path).max_days_ahead == 0
    path.write_text(text.replace("max_days_ahead = 0", "max_days_ahead = -1"), encoding="utf-8")
    with pytest.raises(PolicyError, match=rf"{path}: schedule.max_days_ahead must be a whole number of days"):
        load_schedule(path)
