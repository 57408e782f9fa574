from typing import Any

from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "adesso.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        from adesso.conversations.signals import capacity_freed

        capacity_freed.connect(_hand_out_queue, dispatch_uid="routing.capacity_freed")


def _hand_out_queue(sender: Any, organization_id: int, **kwargs: Any) -> None:
    from adesso.routing.actions import assign_queued_after_commit

    assign_queued_after_commit(organization_id)
