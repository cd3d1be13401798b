"""The smallest module that registers on_new_event: a baseline for what Synapse logs by itself
when any module listens to new events."""

from typing import Any


class OnNewEventOnly:
    def __init__(self, config: Any, api: Any) -> None:
        api.register_third_party_rules_callbacks(on_new_event=self.on_new_event)

    @staticmethod
    def parse_config(config: Any) -> Any:
        return config

    async def on_new_event(self, event: Any, state_events: Any) -> None:
        return None
