from django.http import HttpRequest
from ninja import Router

from catalyst.schemas import Id, OutSchema, Success, errors

router = Router(tags=["account"], by_alias=True)


class AccountOut(OutSchema):
    id: Id
    email: str
    name: str
    is_staff: bool


class AccountResponse(Success):
    data: AccountOut


@router.get("/me", response={200: AccountResponse, **errors(401)})
def me(request: HttpRequest):
    """The account the request is authenticated as."""
    return {"success": True, "data": request.auth}
