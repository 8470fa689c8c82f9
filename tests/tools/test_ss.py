"""``ss -tlnpu``: the listening sockets of a node's processes and a pod's containers, in
iproute2's format (misc/ss.c, 80 columns when stdout is no terminal)."""

import re

import pytest

import kubenet_lab as kl

#: harvester/harvester#3133, ``ss -plntu`` on a node (a real sample; spacing collapsed).
REAL = ['Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process',
        'udp UNCONN 0 0 0.0.0.0:8472 0.0.0.0:*',
        'tcp LISTEN 0 4096 127.0.0.1:10256 0.0.0.0:* users:(("kube-proxy",pid=10968,fd=10))']


def _squash(line):
    return re.sub(r"\s+", " ", line).strip()


def _normal(line):
    return re.sub(r"pid=\d+,fd=\d+", "pid=P,fd=F", _squash(line))


@pytest.fixture
def c():
    c = kl.Cluster(workers=1)
    c.add_pod("default/web", node="node-1")
    return c


def test_the_format_of_the_real_sample(c):
    out = c.exec("node-1", "ss -tlnpu").splitlines()
    assert _squash(out[0]) == REAL[0]
    lines = [_normal(line) for line in out[1:]]
    assert _normal(REAL[1]) in lines  # the kernel's VXLAN socket, no process
    assert ('tcp LISTEN 0 4096 127.0.0.1:10249 0.0.0.0:* users:(("kube-proxy",pid=P,fd=F))'
            in lines)
    assert 'tcp LISTEN 0 4096 0.0.0.0:10250 0.0.0.0:* users:(("kubelet",pid=P,fd=F))' in lines
    assert lines.index(_normal(REAL[1])) < lines.index(
        'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=P,fd=F))')  # UDP first


def test_columns_are_aligned_in_80_columns(c):
    out = c.exec("node-1", "ss -tln").splitlines()
    assert out[0].startswith("State") and "Netid" not in out[0]  # one table: no Netid
    assert all(len(line) >= 80 for line in out)
    col = out[0].index("Local Address:Port") + len("Local Address:")
    for line in out[1:]:
        assert line[col - 1] == ":"  # the address right-aligned on the colon
    assert "users:" not in "\n".join(out)


def test_the_control_plane_runs_the_static_pods():
    c = kl.Cluster(workers=1)
    out = [_normal(line) for line in c.exec("control-plane", "ss -tlnp").splitlines()]
    for sock, proc in (("0.0.0.0:6443", "kube-apiserver"), ("10.0.1.4:2379", "etcd"),
                       ("127.0.0.1:2381", "etcd"), ("127.0.0.1:10257", "kube-controller"),
                       ("127.0.0.1:10259", "kube-scheduler")):
        assert f'LISTEN 0 4096 {sock} 0.0.0.0:* users:(("{proc}",pid=P,fd=F))' in out


def test_a_pod_shows_its_container_sockets(c):
    out = c.exec("default/web", "ss -tlnp").splitlines()
    assert len(out) == 2
    assert _normal(out[1]) == 'LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=P,fd=F))'
    assert "pid=1," in out[1]  # PID 1 of the container's own PID namespace


def test_names_without_n_and_no_established_sockets(c):
    assert any(_squash(line).startswith("LISTEN 0 128 0.0.0.0:ssh ")
               for line in c.exec("node-1", "ss -tl").splitlines())
    assert len(c.exec("node-1", "ss -t").splitlines()) == 1  # the header only


def test_pids_are_stable(c):
    assert c.exec("node-1", "ss -tlnp") == c.exec("node-1", "ss -tlnp")


def test_bad_options(c):
    assert c.exec("node-1", "ss -Y").startswith("ss: invalid option -- 'Y'\nUsage: ss")
    assert c.exec("node-1", "ss -V") == "ss utility, iproute2-6.1.0, libbpf 1.3.0"


def test_each_socket_of_a_process_has_its_own_fd(c):
    # kube-proxy's 10249 and 10256, systemd-resolved's four stub sockets: one fd each
    for where in ("node-1", "control-plane"):
        out = c.exec(where, "ss -tlnpu")
        owners = re.findall(r'users:\(\("([^"]+)",pid=(\d+),fd=(\d+)\)\)', out)
        assert len(owners) == len(set(owners)), out
    c.add_pod("default/two", node="node-1", containers=[kl.Container(
        "web", "nginx", ports=[kl.ContainerPort(80), kl.ContainerPort(443)])])
    fds = re.findall(r"fd=(\d+)", c.exec("default/two", "ss -tlnp"))
    assert len(fds) == 2 and len(set(fds)) == 2
