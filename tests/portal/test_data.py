"""The data page: releases with files, hashes and signature, schema, verification, JSON-LD and DCAT."""
import hashlib
import json

from portal import create_app

from .conftest import soup


def test_data_page_lists_every_release_with_files_and_hashes(client):
    page = soup(client.get("/data"))
    for day in ("2026-11-25", "2026-11-24"):
        release = page.find("article", id=f"release-{day}")
        rows = {tr.td.get_text(strip=True): tr for tr in release.select("table.files tbody tr")}
        assert {"datapackage.json", "SHA256SUMS", "SHA256SUMS.sig", "employers.csv"} <= set(rows)
        link = rows["employers.csv"].find("a")["href"]
        digest = rows["employers.csv"].find("code").get_text()
        assert hashlib.sha256(client.get(link).data).hexdigest() == digest
    assert "BEGIN PUBLIC KEY" in page.find("pre", class_="key").get_text()
    assert "sha256sum -c SHA256SUMS" in page.get_text()
    assert client.get("/data/public-key.pem").data.startswith(b"-----BEGIN PUBLIC KEY")


def test_schema_is_rendered_from_the_data_package(client):
    page = soup(client.get("/data"))
    captions = [c.get_text() for c in page.select("table.schema caption")]
    assert "employers" in captions
    table = next(t for t in page.select("table.schema") if t.caption.get_text() == "employers")
    fields = [th.get_text() for th in table.select("tbody th")]
    assert "tax_code" in fields or "key" in fields
    assert all(td.get_text() for td in table.select("tbody tr td:nth-of-type(2)"))


def test_schema_org_dataset_and_dcat_catalogue(client):
    page = soup(client.get("/data"))
    dataset = json.loads(page.find("script", type="application/ld+json").string)
    assert dataset["@type"] == "Dataset" and dataset["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert dataset["temporalCoverage"] == "2026-11-25"
    assert any(d["contentUrl"].endswith("/data/releases/2026-11-25/employers.csv") for d in dataset["distribution"])
    response = client.get("/data/catalog.jsonld")
    assert response.mimetype == "application/ld+json"
    catalog = response.get_json()
    assert catalog["@type"] == "dcat:Catalog" and len(catalog["dcat:dataset"]) == 2
    distribution = catalog["dcat:dataset"][0]["dcat:distribution"]
    assert all(d["dcat:downloadURL"]["@id"].startswith("https://congkhai.example.vn/") for d in distribution)


def test_about_page_reads_thresholds_from_the_release_policy(client):
    text = soup(client.get("/about")).get_text(" ", strip=True)
    assert "Nợ từ 1\u00a0₫ trở lên trong 3 tháng trở lên" in text
    assert "12 tháng gần nhất" in text and "18:30" in text


def test_the_release_policy_reaches_views_as_a_policy_object_and_its_json_in_full(app, client):
    from congkhai.policy import Policy
    from portal import current

    with app.app_context():
        policy = current.release().policy
    assert isinstance(policy, Policy)
    assert client.get("/about.json").get_json()["policy"] == json.loads(json.dumps(policy.to_dict()))


def test_datapackage_hash_is_shown_for_citation(client):
    release = next(r for r in client.get("/data.json").get_json()["releases"] if r["id"] == "2026-11-25")
    listed = {f["name"]: f["sha256"] for f in release["files"]}
    assert release["datapackage_sha256"] == listed["datapackage.json"] and release["signed"] is True


def test_static_release_feeds_are_served_where_their_self_links_point(client):
    import feedparser
    page = soup(client.get("/data"))
    links = [a["href"] for a in page.select("section[aria-labelledby=feeds-title] a.feed")]
    assert "/releases/current/feeds/changes.atom" in links
    for href in links + ["/releases/current/feeds/provinces/75.atom"]:
        response = client.get(href)
        assert response.status_code == 200 and response.mimetype == "application/atom+xml"
        feed = feedparser.parse(response.data)
        assert not feed.bozo
        assert any(link.href.endswith(href) for link in feed.feed.links if link.rel == "self")
    assert soup(client.get("/provinces/dong-nai")).find("a", href="/releases/current/feeds/provinces/75.atom")


def test_the_release_hour_shown_is_the_deadline_the_publisher_keeps(published, tmp_path):
    from congkhai.policy import DEFAULT_POLICY_PATH

    policy = tmp_path / "policy.toml"
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    policy.write_text(text.replace('deadline = "18:30"', 'deadline = "17:45"'), encoding="utf-8")
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"],
                      "CONGKHAI_POLICY": str(policy)})
    about = soup(app.test_client().get("/about")).get_text(" ", strip=True)
    offenders = soup(app.test_client().get("/lists/offenders")).get_text(" ", strip=True)
    assert "17:45" in about and "18:30" not in about
    assert "17:45" in offenders and "18:30" not in offenders


def test_the_releases_are_paged_newest_first_so_the_page_does_not_grow_with_the_days(client, monkeypatch):
    monkeypatch.setattr("portal.data.RELEASES_PER_PAGE", 1)
    first, second = soup(client.get("/data")), soup(client.get("/data?page=2"))
    assert [a["id"] for a in first.select("article.release")] == ["release-2026-11-25"]
    assert [a["id"] for a in second.select("article.release")] == ["release-2026-11-24"]
    assert first.select_one("nav.pagination a[rel=next]")["href"].endswith("page=2")
    assert "employers" in [c.get_text() for c in second.select("table.schema caption")]  # the newest's schema
    assert client.get("/data?page=3").status_code == 404
    assert client.get("/data.json?page=2").get_json()["releases"][0]["id"] == "2026-11-24"
