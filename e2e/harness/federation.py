"""A homeserver's side of federation request authentication, played with a real Synapse's OWN
signing key (read from its ``signing_key_path``) and signedjson, as Synapse's
``MatrixFederationHttpClient.build_auth_headers`` signs a request."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional

import yaml
from signedjson.key import read_signing_keys
from signedjson.sign import sign_json

from harness.synapse import Synapse


def signing_key(synapse: Synapse) -> Any:
    """The Synapse's own signing key, as it signs its federation requests."""
    path = yaml.safe_load((synapse.dir / "homeserver.yaml").read_text())["signing_key_path"]
    [key] = read_signing_keys(Path(path).read_text().splitlines())
    return key


def x_matrix(key: Any, origin: str, method: str, uri: str, destination: str,
             content: Optional[Dict[str, Any]]) -> str:
    """The ``Authorization`` header of a request from ``origin`` to ``destination``."""
    request: Dict[str, Any] = {"method": method, "uri": uri, "origin": origin, "destination": destination}
    if content is not None:
        request["content"] = content
    signed = sign_json(request, origin, key)
    [(key_id, sig)] = signed["signatures"][origin].items()
    return f'X-Matrix origin="{origin}",destination="{destination}",key="{key_id}",sig="{sig}"'
