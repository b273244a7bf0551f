import pytest

from helpers import backend
from helpers.backend import BackendError, chosen_backend, use_backend


@pytest.fixture
def clean_env(monkeypatch):
    for var in (
        "TUTORIAL_BACKEND",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "AZURE_OPENAI_ENDPOINT",
        "AZURE_OPENAI_API_KEY",
    ):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_a_key_alone_never_chooses_the_paid_api(clean_env):
    clean_env.setenv("OPENAI_API_KEY", "sk-learner-key-not-to-be-spent")
    assert chosen_backend() == "simulator"


def test_unknown_backend_is_refused_plainly(clean_env):
    clean_env.setenv("TUTORIAL_BACKEND", "anthropic")
    with pytest.raises(BackendError, match="not one of simulator, openai, azure"):
        chosen_backend()


def test_openai_backend_needs_a_key(clean_env):
    with pytest.raises(BackendError, match="needs OPENAI_API_KEY"):
        use_backend("openai", quiet=True)


def test_openai_backend_drops_a_leftover_simulator_url(clean_env):
    clean_env.setenv("OPENAI_API_KEY", "sk-learner-key")
    clean_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:5555/v1")
    assert use_backend("openai", quiet=True) == "openai"
    import os

    assert "OPENAI_BASE_URL" not in os.environ
    assert os.environ["OPENAI_API_KEY"] == "sk-learner-key"


def test_openai_backend_refuses_the_simulator_placeholder_key(clean_env):
    clean_env.setenv("OPENAI_API_KEY", backend.SIMULATOR_KEY)
    with pytest.raises(BackendError, match="placeholder"):
        use_backend("openai", quiet=True)


def test_azure_backend_uses_the_v1_endpoint(clean_env, capsys):
    clean_env.setenv("AZURE_OPENAI_ENDPOINT", "https://my-resource.openai.azure.com/")
    clean_env.setenv("AZURE_OPENAI_API_KEY", "azure-secret-key")
    assert use_backend("azure") == "azure"
    import os

    assert os.environ["OPENAI_BASE_URL"] == "https://my-resource.openai.azure.com/openai/v1/"
    out = capsys.readouterr().out
    assert out.startswith("Backend: Azure OpenAI") and "azure-secret-key" not in out


def test_azure_url_is_not_doubled():
    url = "https://x.openai.azure.com/openai/v1"
    assert backend.azure_v1_url(url) == "https://x.openai.azure.com/openai/v1/"
