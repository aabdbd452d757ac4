"""One job's calling marker: written before its first paid generation, read by its next owner."""

from bria_fleet.runtime.journal import Journal


class PaidCallMarker:
    """Announces a job's paid generations (see ``api.announcing_paid_calls``).

    ``earlier`` says whether the operations table already holds a marker for the job: an
    earlier attempt stopped (its worker died) while it may have been sending one.
    """

    def __init__(self, journal: Journal, job_id: str, *, earlier: bool) -> None:
        self._journal = journal
        self._job_id = job_id
        self._earlier = earlier
        self._written = False

    async def announce(self) -> bool:
        """Before a paid generation: whether it may have been sent already; if not, write
        the marker (durably, before the call goes out)."""
        if self._earlier:
            return True
        if not self._written:
            await self._journal.mark_calling(self._job_id)
            self._written = True
        return False

    async def withdraw(self) -> None:
        """The job will run again (through ``.retry``) and sent nothing paid: forget our marker."""
        if self._written:
            await self._journal.unmark_calling(self._job_id)
            self._written = False
