import pytest

from im_runtime.settings import Settings, SettingsError

pytestmark = pytest.mark.unit


def test_defaults():
    s = Settings.from_env({})
    assert s.nats_url == "nats://127.0.0.1:4222"
    assert s.mongo_url == "mongodb://127.0.0.1:27017"
    assert s.max_deliver == 5


def test_values_are_read():
    s = Settings.from_env({"IM_NATS_URL": "nats://a:1,nats://b:2", "IM_BATCH_SIZE": "64",
                           "IM_MONGO_URL": "mongodb://m:27017/?replicaSet=rs0",
                           "IM_RETRY_BACKOFF": "0.1", "IM_LOG_LEVEL": "debug",
                           "IM_QUERY_WORKERS": "4"})
    assert s.batch_size == 64 and s.retry_backoff == 0.1 and s.log_level == "DEBUG"
    assert s.query_workers == 4


@pytest.mark.parametrize("env, fragment", [
    ({"IM_NATS_URL": "localhost:4222"}, "IM_NATS_URL must be a URL"),
    ({"IM_MONGO_URL": "postgres://x"}, "IM_MONGO_URL must be a URL"),
    ({"IM_BATCH_SIZE": "many"}, "IM_BATCH_SIZE must be an integer, got 'many'"),
    ({"IM_BATCH_SIZE": "0"}, "IM_BATCH_SIZE must be between 1 and 4096"),
    ({"IM_HEALTH_PORT": "70000"}, "IM_HEALTH_PORT must be between 0 and 65535"),
    ({"IM_QUERY_WORKERS": "0"}, "IM_QUERY_WORKERS must be between 1 and 256"),
    ({"IM_RETRY_BACKOFF": "soon"}, "IM_RETRY_BACKOFF must be a number"),
    ({"IM_LOG_LEVEL": "LOUD"}, "IM_LOG_LEVEL must be"),
    ({"IM_LOG_FORMAT": "xml"}, "IM_LOG_FORMAT must be json or text"),
    ({"IM_DB_PREFIX": "a-b"}, "IM_DB_PREFIX may hold only"),
])
def test_bad_values_name_the_variable(env, fragment):
    with pytest.raises(SettingsError, match=fragment):
        Settings.from_env(env)
