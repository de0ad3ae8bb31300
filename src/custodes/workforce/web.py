"""Workforce screens. This issue: a member of staff's own record."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from custodes.identity.permissions import ROLE_TITLES, Permission
from custodes.identity.schemas import Principal
from custodes.web.deps import Db, require
from custodes.web.templating import render
from custodes.workforce import service as workforce

router = APIRouter()


@router.get("/me")
def my_record(
    request: Request, db: Db, principal: Annotated[Principal, Depends(require(Permission.SELF_VIEW))]
) -> Any:
    staff = workforce.view_staff(db, principal.staff_id, actor=principal.actor, justification="own record")
    return render(
        request,
        "my_record.html",
        title="My record",
        staff=staff,
        role_titles=[ROLE_TITLES[r] for r in sorted(principal.roles)],
    )
