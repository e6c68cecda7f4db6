"""Log output never carries a secret: one masking rule for DSNs, Redis URLs and key=value strings."""

import pytest

from ingest.logs import mask_secrets


@pytest.mark.parametrize("secret, masked", [
    ("postgresql://news:s3cret@db.internal:5432/news", "postgresql://news:***@db.internal:5432/news"),
    ("redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
    ("host=db user=news password=s3cret dbname=news", "host=db user=news password=*** dbname=news"),
])
def test_passwords_are_masked(secret, masked):
    assert mask_secrets(secret) == masked


def test_a_url_with_a_port_and_an_at_sign_in_its_path_is_left_alone():
    assert mask_secrets("https://news.example:8443/@reporter/story") == "https://news.example:8443/@reporter/story"
