"""OpenAI-shaped errors: `{"error": {"message", "type", "param", "code"}}` with the right status."""

from __future__ import annotations

from starlette.exceptions import HTTPException


class APIError(HTTPException):
    """Raised anywhere in a request; the app turns it into the error response.

    An HTTPException, so that one raised while FastAPI reads a body passes through unchanged.
    """

    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        retry: bool = False,
    ):
        super().__init__(status, message)
        self.status = status
        self.message = message
        self.type = type_
        self.param = param
        self.code = code
        # The SDK retries 408, 409, 429 and 5xx unless told otherwise.
        self.retry = retry

    def body(self) -> dict:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def response_headers(self) -> dict[str, str]:
        return {"x-should-retry": "true" if self.retry else "false"}


def invalid(message: str, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(400, message, param=param, code=code)


def not_found(message: str, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(404, message, param=param, code=code)


def conflict(message: str, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(409, message, param=param, code=code)


def unauthorized() -> APIError:
    """A request without a key, answered as the API answers it (the simulator takes any key)."""
    return APIError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password "
        "field (with blank username) if you're accessing the API from your browser and are "
        "prompted for a username and password. You can obtain an API key from "
        "https://platform.openai.com/account/api-keys.",
    )
