import openai
import pytest

from helpers.api_errors import APIRefused, TrainingNotAvailable, explained_refusals
from tests.refusals import status_error


def test_training_not_available_is_explained_without_a_traceback():
    with pytest.raises(TrainingNotAvailable) as caught, explained_refusals():
        raise status_error(openai.PermissionDeniedError, 403, "training_not_available")
    text = str(caught.value)
    assert "2026-05-07" in text and "2027-01-06" in text and "simulator" in text
    assert "Nothing was created" in text
    assert caught.value.__suppress_context__
    assert len(caught.value._render_traceback_()) == 1


def test_other_permission_errors_say_what_to_check():
    with pytest.raises(APIRefused, match="HTTP 403, model_not_allowed"), explained_refusals():
        raise status_error(openai.PermissionDeniedError, 403, "model_not_allowed")


def test_bad_key_and_no_credit_are_explained():
    with pytest.raises(APIRefused, match="did not accept the key"), explained_refusals():
        raise status_error(openai.AuthenticationError, 401, "invalid_api_key")
    with pytest.raises(APIRefused, match="no credit left"), explained_refusals():
        raise status_error(openai.RateLimitError, 429, "insufficient_quota")


def test_errors_a_learner_cannot_act_on_pass_through():
    with pytest.raises(openai.BadRequestError), explained_refusals():
        raise status_error(openai.BadRequestError, 400, "invalid_value")
