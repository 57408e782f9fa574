"""What the core announces for the apps above it to act on.

The core (`adesso.conversations`) imports no routing, acknowledgements or outbox:
these three are the places where it needs them, so the dependency is inverted. The
receivers are connected in the listening app's `AppConfig.ready` and run at once,
inside the sender's transaction (tests/test_architecture.py checks that each has one).
"""

from django.dispatch import Signal

# A conversation left an agent or the queue (transfer, unassign, resolve, pending,
# snooze): routing hands the queue out once the transaction commits. Sent with
# `organization_id`.
capacity_freed = Signal()

# A conversation was snoozed: a snooze past what the waiting customer was promised
# makes the acknowledgements send an honest update. Sent with `conversation`,
# `until`, `now`.
snoozed = Signal()

# An outgoing message (a reply, an automatic message) was written: the outbox queues
# its delivery, committed with it. Sent with `message`.
message_written = Signal()

# A conversation was resolved: the surveys ask the customer how it went (unless the
# agent marked it `sensitive`). Sent with `conversation`, `actor`, `sensitive`.
resolved = Signal()
