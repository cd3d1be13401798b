"""A Synapse module that forwards every module callback to matrix-policy-gateway.

In homeserver.yaml::

    modules:
      - module: matrix_policy_gateway_shim.PolicyGatewayModule
        config:
          base_url: http://127.0.0.1:8090
          token_file: /etc/synapse/policy-gateway.token
"""

from .module import PolicyGatewayModule

__all__ = ["PolicyGatewayModule"]
__version__ = "0.1.0"
