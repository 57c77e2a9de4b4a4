"""The page a URL names, to go on to it after the sign-in (a deep link survives the sign-in page)."""

from analyst_ui.navigation import page_of


def test_a_deep_link_names_its_page_and_keeps_its_query() -> None:
    spec, query = page_of("http://localhost:8080/monitoring?window=24h")
    assert spec.script == "views/monitoring.py" and query == {"window": "24h"}
    assert page_of("http://localhost:8080/batch/")[0].url_path == "batch"
    assert page_of("http://localhost:8080/score")[0].script == "views/score.py"  # the first page has its own path


def test_the_root_and_unknown_paths_name_no_page() -> None:
    for url in (None, "", "http://localhost:8080/", "http://h/nope"):
        assert page_of(url) is None
