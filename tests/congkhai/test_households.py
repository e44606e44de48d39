import pytest

from congkhai.rules.households import is_household, names_a_legal_entity, ownership_names_a_household


@pytest.mark.parametrize("ownership", [
    "Hộ kinh doanh", "HKD", "hkd", "Hộ KD", "hộ kd", "hộ cá thể", "Hộ kinh doanh cá thể", "HỘ KINH DOANH",
    "Ho kinh doanh", "ho ca the", "Hộ  kinh   doanh", "Loại hình: HKD", "Ho\u0302\u0323 kinh doanh",
])
def test_every_spelling_of_a_household_ownership_type(ownership):
    assert ownership_names_a_household(ownership)


@pytest.mark.parametrize("ownership", ["Công ty TNHH", "Doanh nghiệp tư nhân", "HKDX", "Hợp tác xã", "Hồ Kỳ", ""])
def test_other_ownership_types_are_not_households(ownership):
    assert not ownership_names_a_household(ownership)


@pytest.mark.parametrize("name", ["HKD Nguyễn Văn A", "Hộ KD Trần Thị B", "hộ cá thể Lê C", "Ho kinh doanh Pham D",
                                  "  Hộ kinh doanh cá thể Võ E", "- HKD Bà Năm"])
def test_a_household_spelling_at_the_start_of_the_name(name):
    assert is_household("", name)


@pytest.mark.parametrize("name", [
    "Công ty TNHH An Phú", "CTY CP Đông Á", "Tổng Công ty Điện lực", "Doanh nghiệp tư nhân Hòa Bình",
    "Hợp tác xã Nông nghiệp Tân Lập", "Chi nhánh Ngân hàng Nông nghiệp", "Văn phòng đại diện Samsung",
    "Trường THCS Nguyễn Du", "Trường Mầm non Hoa Sen", "Bệnh viện Đa khoa tỉnh", "Ủy ban nhân dân xã Tân An",
    "UBND phường 1", "Trung tâm Y tế huyện", "Ban quản lý dự án", "Cơ quan thường trú", "An Phat Co., Ltd",
])
def test_a_legal_entity_with_twelve_digits_is_no_household(name):
    assert names_a_legal_entity(name)
    assert not is_household("", name, "123456789012")


@pytest.mark.parametrize("name", ["Nguyễn Văn Phong", "Trương Thị Bảo", "Tạp hóa Quý Đại", "Nhà hàng Hồng Vân",
                                  "Cửa hàng Số 5"])
def test_a_name_without_a_legal_entity_word_and_twelve_digits_is_a_household(name):
    assert not names_a_legal_entity(name)
    assert is_household("Tư nhân", name, "123456789012")
    assert is_household("", name, "79085012345")
    assert not is_household("", name, "0100233488")
