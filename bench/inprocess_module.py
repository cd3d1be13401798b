"""The in-process baseline of bench/synapse-path.sh: a Synapse module doing, inside the homeserver,
the check the gateway's chain does there (a `user_denylist` and a `content_rules` keyword rule).

``check_event_for_spam`` refuses (``M_FORBIDDEN``) an event whose sender is listed (exact user
IDs, or globs where ``*`` is any run of characters and ``?`` one, case ignored, as
`user_denylist` reads them), or whose ``body`` / ``formatted_body`` holds one of the keywords as a
whole word or word sequence, case ignored (neither neighbour a letter or digit, as `content_rules`
reads ``keywords``). Everything else is ``NOT_SPAM``.

Deliberately plain: a set for the exact IDs, one regular expression for all the globs and one for
all the keywords, compiled once. It does less than `content_rules` (no folding of accents or
look-alike letters, no reading of edits' ``m.new_content`` or of room names and topics), so it is a
lower bound for the work done in process, not a rival implementation.

Configuration (``modules:`` in homeserver.yaml)::

    - module: inprocess_module.DenylistAndKeywords
      config:
        users: ["@spammer:example.org", "*:spam.example"]
        keywords: [airdrop, "seed phrase"]
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Union

from synapse.api.errors import Codes
from synapse.module_api import NOT_SPAM, ModuleApi


def _glob(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


class DenylistAndKeywords:
    def __init__(self, config: Dict[str, List[str]], api: ModuleApi) -> None:
        users = config.get("users", [])
        self.exact = {u.lower() for u in users if "*" not in u and "?" not in u}
        globs = [_glob(u.lower()) for u in users if "*" in u or "?" in u]
        self.globs = re.compile("|".join(globs), re.DOTALL) if globs else None
        # Longest first, so that a phrase wins over a word it starts with; [^\W_] is a letter or digit.
        words = sorted((re.escape(k.lower()) for k in config.get("keywords", [])), key=len, reverse=True)
        self.keywords = re.compile(r"(?<![^\W_])(?:" + "|".join(words) + r")(?![^\W_])",
                                   re.IGNORECASE) if words else None
        api.register_spam_checker_callbacks(check_event_for_spam=self.check_event_for_spam)

    @staticmethod
    def parse_config(config: Dict[str, Any]) -> Dict[str, Any]:
        return config

    async def check_event_for_spam(self, event: Any) -> Union[str, Codes]:
        sender = event.sender.lower()
        if sender in self.exact or (self.globs is not None and self.globs.fullmatch(sender)):
            return Codes.FORBIDDEN
        if self.keywords is not None:
            for field in ("body", "formatted_body"):
                text = event.content.get(field)
                if isinstance(text, str) and self.keywords.search(text):
                    return Codes.FORBIDDEN
        return NOT_SPAM
