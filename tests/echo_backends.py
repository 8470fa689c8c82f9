"""Manifests the Gateway API tests share: the conformance suite's echo backends
(gateway-api conformance/base/manifests.yaml: a Deployment of
registry.k8s.io/gateway-api/echo-basic, whose container declares no ports and listens on
3000, behind a Service). Importable from every test module: pytest puts this directory,
the one of the root conftest.py, on sys.path."""

from __future__ import annotations

__all__ = ["echo_backend"]


def echo_backend(ns: str, name: str, replicas: int = 1, port: int = 8080) -> str:
    """A Deployment ``name`` of echo pods and its Service on ``port`` (targetPort 3000),
    as YAML documents ending with ``---``."""
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {ns}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: echo, image: "registry.k8s.io/gateway-api/echo-basic:v1.5.1"}}]
---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {ns}}}
spec:
  selector: {{app: {name}}}
  ports: [{{port: {port}, targetPort: 3000, protocol: TCP}}]
---
"""
