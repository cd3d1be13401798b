"""The module's configuration as the README and docs/synapse.md show it: every example is accepted,
every default the options table states is the parser's, and the error shown is the one raised."""

import re
from pathlib import Path

import pytest
import yaml

from matrix_policy_gateway_shim.config import parse

REPO = Path(__file__).resolve().parents[2]
SYNAPSE_MD = REPO / "docs" / "synapse.md"
BASE = {"base_url": "http://127.0.0.1:8090"}


def _module_configs(page):
    """The config blocks of our module in the page's ``# homeserver.yaml`` examples."""
    blocks = re.findall(r"```yaml\n(# homeserver\.yaml\n.*?)```", page.read_text(encoding="utf-8"), re.S)
    return [entry.get("config") or {} for block in blocks for entry in yaml.safe_load(block)["modules"]
            if entry["module"] == "matrix_policy_gateway_shim.PolicyGatewayModule"]


def _options_table():
    """(key, default) of each row of docs/synapse.md's options table whose default is a literal."""
    section = SYNAPSE_MD.read_text(encoding="utf-8").split("### Configure it", 1)[1].split("###", 1)[0]
    rows = re.findall(r"^\| `([a-z_.]+)` \| `([^|]+)` \|", section, re.M)
    assert len(rows) >= 10, "the options table was not found"
    return rows


@pytest.mark.parametrize("page", [REPO / "README.md", SYNAPSE_MD], ids=lambda page: page.name)
def test_every_documented_example_is_accepted_once_its_token_file_exists(page, tmp_path):
    configs = _module_configs(page)
    assert configs, f"no example of the module in {page.name}"
    token_file = tmp_path / "policy-gateway.token"
    token_file.write_text("s3cret\n")
    for config in configs:
        if "token_file" in config:
            config["token_file"] = str(token_file)
        assert parse(config).token in (None, "s3cret")


@pytest.mark.parametrize("key, default", _options_table())
def test_a_documented_default_written_out_changes_nothing(key, default):
    setting = yaml.safe_load(default)
    *parents, name = key.split(".")
    written = dict(BASE)
    level = written
    for parent in parents:
        level = level.setdefault(parent, {})
    level[name] = setting
    assert parse(written) == parse(BASE)


def test_the_documented_error_is_the_one_raised():
    shown = re.search(r"A wrong key or value stops Synapse at startup with a message naming it, e\.g\.\n`([^`]+)`",
                      SYNAPSE_MD.read_text(encoding="utf-8")).group(1)
    with pytest.raises(Exception) as refused:
        parse(dict(BASE, on_failure={"on_new_event": "fail-open"}))
    assert str(refused.value) == shown
