"""Live feed events of the dialer (docs/events.md)."""
from __future__ import annotations

STATUS = "campaign.status"  # started, paused, resumed, stopped, finished: data is the campaign
DIALING = "campaign.dialing"  # a contact is being called: campaign, contact
ANSWERED = "campaign.answered"  # the contact answered and waits for an agent: the contact's data
CONNECTED = "campaign.connected"  # an agent took the contact
ATTEMPT_FAILED = "campaign.attempt_failed"  # no answer, busy, failed: retried or given up (contact status)
SKIPPED = "campaign.skipped"  # not dialled: campaign blacklist or do-not-call list (reason)
ENDED = "campaign.call_ended"  # the customer's side of an answered call hung up
GONE = "campaign.contact_done"  # the call is completely over (the contact's final status)
