from ninja import Schema


class ErrorOut(Schema):
    """Every refusal's JSON body, in the API and on the kinds' inbound endpoints."""

    error: str
    message: str


class ActionError(Exception):
    """A state change refused for a reason the user can fix; the message is shown to them."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
