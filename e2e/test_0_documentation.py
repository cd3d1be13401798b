"""First, and without a homeserver: what the documentation promises about this suite is what the
suite holds, so the two cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List

from conftest import ANTISPAM_CALLBACKS, NOT_IN_SYNAPSE_1_67, REPO


def _table(markdown: Path, after: str) -> List[List[str]]:
    """The cells of the first Markdown table that follows the line starting with ``after``,
    without its header and separator rows."""
    lines = markdown.read_text().splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(after))
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]


def _names(cell: str) -> List[str]:
    return re.findall(r"`(\w+)`", cell)


def test_the_readmes_table_of_what_synapse_1_67_cannot_call_is_the_suites():
    documented: Dict[str, str] = {}
    for callbacks, first, _ in _table(REPO / "e2e" / "README.md", "## What Synapse 1.67 cannot call"):
        for name in _names(callbacks):
            assert name not in documented, f"{name} is listed twice"
            documented[name] = f"added in Synapse {first}"
    assert documented == NOT_IN_SYNAPSE_1_67


def test_the_synapse_http_antispam_example_for_1_63_to_1_86_is_what_synapse_b_runs():
    lists = {synapse: _names(callbacks)
             for synapse, callbacks in _table(REPO / "docs" / "synapse.md", "`enabled_callbacks` by Synapse version")}
    assert lists["1.63 to 1.86"] == ANTISPAM_CALLBACKS
    # Each later release adds the one callback it brought, and nothing else.
    assert lists["1.87 to 1.133"] == ANTISPAM_CALLBACKS + ["check_login_for_spam"]
    assert lists["1.134 and later"] == ANTISPAM_CALLBACKS + ["check_login_for_spam", "federated_user_may_invite"]
    assert lists["1.62 and older"] == []
    # Never user_may_create_room_alias (it cannot write the RoomAlias as JSON, so every alias is
    # refused) nor check_username_for_spam (its truthy NOT_SPAM hides every user from searches).
    assert {"user_may_create_room_alias", "check_username_for_spam"} & set(sum(lists.values(), [])) == set()
    # The YAML example above the table is the 1.87 to 1.133 list.
    example = (REPO / "docs" / "synapse.md").read_text().split("enabled_callbacks:", 1)[1].split("```", 1)[0]
    assert re.findall(r"^\s+- (\w+)$", example, re.MULTILINE) == lists["1.87 to 1.133"]



def test_the_readmes_table_of_tests_names_every_test_file():
    documented = [re.fullmatch(r"`(test_\w+\.py)`", row[0]).group(1)
                  for row in _table(REPO / "e2e" / "README.md", "## The tests")]
    assert sorted(documented) == sorted(path.name for path in (REPO / "e2e").glob("test_*.py"))
