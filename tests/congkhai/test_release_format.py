"""The release format's one home (issue 24, step 2): SHA256SUMS written and read the same way by
the publisher, the portal and `congkhai verify`, and the portal needs none of the publisher."""
import subprocess
import sys

from congkhai.release_format import SUMS, format_sums, read_sums

DIGEST = "a" * 64


def test_sums_written_are_read_back_in_sha256sums_format():
    listed = {"employers.csv": DIGEST, "feeds/changes.atom": "b" * 64}
    text = format_sums(listed)
    assert text == f"{DIGEST}  employers.csv\n{'b' * 64}  feeds/changes.atom\n"
    assert read_sums(text) == (listed, [])


def test_a_binary_mark_is_read_and_a_damaged_or_escaping_line_is_named():
    listed, problems = read_sums(f"{DIGEST} *employers.csv\nnot a line\n{DIGEST}  ../../etc/passwd\n")
    assert listed == {"employers.csv": DIGEST}
    assert problems == [f"{SUMS}, line 2: not a 'sha256  file' line",
                        f"{SUMS}, line 3: '../../etc/passwd' points outside the release"]


def test_the_portal_imports_nothing_of_the_publisher():
    code = ("import sys, portal; from portal import api, current, search, lists, eligibility, employers; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'publisher'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
