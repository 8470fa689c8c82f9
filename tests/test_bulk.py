"""kube-proxy's chain names take 8 or 16 base32 characters of a SHA-256
(pkg/proxy/iptables ``portProtoHash``, pkg/proxy/nftables ``hashAndTruncate``): the
lab's shortcut gives the characters ``base64.b32encode`` gives, for any digest."""

from __future__ import annotations

import base64
import hashlib

import pytest

from kubenet_lab.model.bulk import base32_prefix


@pytest.mark.parametrize("chars", [8, 16, 24, 32])
def test_base32_prefix_is_base32(chars):
    for i in range(2000):
        raw = hashlib.sha256(str(i).encode()).digest()
        assert base32_prefix(raw, chars) == base64.b32encode(raw).decode()[:chars]
    for raw in (bytes(32), b"\xff" * 32):
        assert base32_prefix(raw, chars) == base64.b32encode(raw).decode()[:chars]
