"""Refusals as the real API sends them, made without a network: for the tests of how the course
explains them (`helpers.api_errors`) and of the helpers that call it."""

import httpx2


def status_error(cls, status, code, message="refused"):
    """The SDK's exception `cls` for an HTTP `status` answer with an OpenAI-shaped error body."""
    request = httpx2.Request("POST", "https://api.openai.com/v1/fine_tuning/jobs")
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    response = httpx2.Response(status, json=body, request=request)
    return cls(message, response=response, body=body["error"])
