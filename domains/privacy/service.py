"""The privacy commands: a person's erasure, asked by HR and confirmed by a second HR or ADMIN.

Confirmed, in one transaction: the files of the person's documents are deleted from the blob
store (every version, every upload), but for the kinds the law makes us keep; the personal
fields are replaced by a pseudonym; the request records who asked, who confirmed, when, the
pseudonym and how many files went. The files go before the commit: should the commit fail,
the request is still waiting and confirming again finishes the work (deleting is idempotent).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from domains.kernel.errors import Conflict, Forbidden, NotFound
from domains.kernel.principal import Principal
from domains.kernel.unit_of_work import Transactional
from domains.privacy.model import ErasureRequest, may_erase, pseudonym_of
from domains.privacy.ports import Clock, ErasureStore, FileEraser, PersonalData


class PrivacyCommands:
    def __init__(
        self,
        requests: ErasureStore,
        people: PersonalData,
        files: FileEraser,
        clock: Clock,
        uow: Transactional,
        keep_kinds: Collection[str] = (),
    ) -> None:
        self.requests = requests
        self.people = people
        self.files = files
        self.clock = clock
        self.uow = uow
        self.keep_kinds = frozenset(keep_kinds)

    async def request_erasure(self, actor: Principal, user_id: uuid.UUID, reason: str) -> ErasureRequest:
        if not may_erase(actor):  # before any look-up: nobody else learns who exists
            raise Forbidden("only HR or an ADMIN may ask for a person's erasure")
        async with self.uow.transaction():
            company = await self.people.company_of(user_id)
            if company is None or (not actor.is_admin and company != actor.company_id):
                raise NotFound("User", user_id)
            request = ErasureRequest.ask(actor, user_id, company, reason)
            if await self.requests.pending_for(user_id) is not None:
                raise Conflict("an erasure of this person is already waiting for confirmation")
            await self.requests.add(request)
            return request

    async def confirm_erasure(self, actor: Principal, id: uuid.UUID) -> ErasureRequest:
        async with self.uow.transaction():
            request = await self.requests.visible(actor, id)
            if request is None:
                raise NotFound("ErasureRequest", id)
            request.check_confirmer(actor)
            expected = request.version
            deleted = 0
            for prefix in await self.people.file_prefixes(request.subject_id, self.keep_kinds):
                deleted += await self.files.erase(prefix)
            await self.people.pseudonymise(request.subject_id, pseudonym_of(request.subject_id), self.keep_kinds)
            request.confirm(actor, self.clock.now(), deleted)
            await self.requests.save(request, expected)
            return request
