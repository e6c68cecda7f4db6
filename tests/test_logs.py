"""Log output never carries a secret: one masking rule for DSNs, Redis URLs and key=value strings."""

import psycopg
import pytest

from ingest.logs import error_text, mask_secrets


@pytest.mark.parametrize("secret, masked", [
    ("postgresql://news:s3cret@db.internal:5432/news", "postgresql://news:***@db.internal:5432/news"),
    ("redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
    ("host=db user=news password=s3cret dbname=news", "host=db user=news password=*** dbname=news"),
])
def test_passwords_are_masked(secret, masked):
    assert mask_secrets(secret) == masked


def test_a_url_with_a_port_and_an_at_sign_in_its_path_is_left_alone():
    assert mask_secrets("https://news.example:8443/@reporter/story") == "https://news.example:8443/@reporter/story"


def test_a_postgresql_error_is_logged_as_its_message_without_the_caret_lines(db):
    with pytest.raises(psycopg.Error) as caught:
        db.execute("SELECT * FROM no_such_table")
    assert error_text(caught.value) == 'relation "no_such_table" does not exist'


def test_a_refused_connection_is_logged_with_its_cause_and_hint_on_one_line():
    with pytest.raises(psycopg.OperationalError) as caught:
        psycopg.connect("postgresql://newsingest@127.0.0.1:1/none", connect_timeout=2)
    text = error_text(caught.value)
    assert "Connection refused" in text and "Is the server running" in text and "\n" not in text
