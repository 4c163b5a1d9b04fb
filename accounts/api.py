from django.http import HttpRequest
from ninja import Router, Schema

from catalyst.api import errors

router = Router(tags=["account"])


class AccountOut(Schema):
    id: str
    email: str
    name: str
    isStaff: bool


class AccountResponse(Schema):
    success: bool = True
    data: AccountOut


@router.get("/me", response={200: AccountResponse, **errors(401)})
def me(request: HttpRequest):
    """The account the request is authenticated as."""
    user = request.auth
    return {"data": {"id": str(user.pk), "email": user.email, "name": user.name, "isStaff": user.is_staff}}
