"""Exercises of lessons 04 (egress) and 05 (ingress): the solutions pass and each hint
fits its mistake."""

import pytest

import kubenet_lab as kl
from kubenet_lab.dataplane import ip_masq_agent

MASQ_CM = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ip-masq-agent, namespace: "
           "kube-system}}\ndata:\n  config: 'nonMasqueradeCIDRs: [{}]'\n")


@pytest.fixture
def c4():
    c = kl.Cluster(workers=2)
    c.add_nat_gateway(public_ip="198.51.100.20")
    c.add_pod("default/a", node="node-1")
    return c


def test_4_1_solution_and_hints(c4):
    ex = kl.exercise("4.1")
    assert ex.check("198.51.100.20", c4).passed
    assert "pod's own address" in ex.check("10.244.1.2", c4).message
    assert "not on the internet yet" in ex.check("10.0.1.5", c4).message
    assert "Elastic IP" in ex.check("10.0.0.4", c4).message
    assert "none of c_nat's" in ex.check("1.2.3.4", c4).message
    assert "198.51.100.20" not in ex.check("1.2.3.4", c4).message


def test_4_2_solution_and_hints():
    ex = kl.exercise("4.2")
    c = kl.Cluster(cni="bridge", workers=1)
    c.add_pod("default/a", node="node-1")
    assert "add_ip_masq_agent" in ex.check("done", c).message
    c.add_ip_masq_agent()
    assert "ConfigMap named ip-masq-agent" in ex.check("done", c).message
    c.apply(MASQ_CM.format("192.168.0.0/16"))
    assert "10.0.0.0/16 in" in ex.check("done", c).message
    c.apply(MASQ_CM.format("10.0.0.0/8"))
    assert "replaces the defaults" in ex.check("done", c).message
    c.apply(MASQ_CM.format("10.0.0.0/16, 64.0.0.0/2"))
    assert "93.184.216.34" in ex.check("done", c).message
    c.apply(MASQ_CM.format("10.0.0.0/16, 10.244.0.0/16"))
    # AWS: "the instance must be the source or destination of any traffic it sends or
    # receives" (VPC_NAT_Instance.html): an unmasqueraded pod IP needs the check off
    msg = ex.check("done", c).message
    assert "source/destination check is still on for control-plane" in msg
    assert "set_source_dest_check('control-plane', False)" in msg
    c.set_source_dest_check("control-plane", False)
    assert "still on for node-1" in ex.check("done", c).message
    c.set_source_dest_check("node-1", False)
    # a VPC host answers a pod IP through the VPC router: its route table needs the podCIDR
    msg = ex.check("done", c).message
    assert "no route for control-plane's podCIDR 10.244.0.0/24" in msg
    c.add_vpc_route("10.244.0.0/24", "control-plane")
    assert "add_vpc_route('10.244.1.0/24', 'node-1')" in ex.check("done", c).message
    c.add_vpc_route("10.244.1.0/24", "node-1")
    assert ex.check("done", c).passed
    t = c.trace("10.0.1.200", "default/a")
    assert t.destination_pod == "default/a" and t.source_ip_seen == "10.0.1.200"


def test_4_2_solution_runs():
    namespace = {"kl": kl}
    exec(kl.exercise("4.2").solution, namespace)
    assert kl.exercise("4.2").check("done", namespace["b"]).passed


def test_4_2_setup_is_the_lesson_bridge_cluster_and_hints_name_b():
    ex = kl.exercise("4.2")
    b = ex.setup()
    assert b.cni == "bridge" and b.pod("default/a").node == "node-1"
    assert "10.0.0.0/16 in nonMasqueradeCIDRs" in ex.check("done", b).message
    b.apply(MASQ_CM.format("10.0.0.0/8"))
    assert "your list has 10.0.0.0/8, which contains it" in ex.check("done", b).message
    b.apply(MASQ_CM.format("10.0.0.0/16, 64.0.0.0/2"))
    assert "64.0.0.0/2 in nonMasqueradeCIDRs covers" in ex.check("done", b).message
    b.apply(MASQ_CM.format("10.0.0.0/16, 10.244.0.0/16"))
    assert "b.set_source_dest_check('control-plane', False)" in ex.check("done", b).message
    # a fresh setup is the bridge cluster of section 4 again: only the pod network listed
    assert ip_masq_agent.config(ex.setup().store)["nonMasqueradeCIDRs"] == ["10.244.0.0/16"]


@pytest.fixture
def c5():
    c = kl.Cluster(workers=2)
    c.add_ingress_controller()
    for name in ("shop", "api", "blog"):
        c.add_pod(f"default/{name}", labels={"app": name},
                  containers=[kl.Container("web", "nginx", (kl.ContainerPort(80),))])
        c.add_service(f"default/{name}", selector={"app": name}, ports=[80])
    c.apply("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: shop}\n"
            "spec:\n  ingressClassName: nginx\n  rules:\n  - host: shop.example.com\n"
            "    http:\n      paths:\n"
            "      - {path: /, pathType: Prefix, backend: {service: {name: shop, port: "
            "{number: 80}}}}\n      - {path: /api, pathType: Prefix, backend: {service: "
            "{name: api, port: {number: 80}}}}\n")
    return c


def test_5_1_solution_and_hints(c5):
    ex = kl.exercise("5.1")
    assert ex.check("api", c5).passed
    assert "the longest one wins" in ex.check("shop", c5).message
    assert "No path of shop.example.com sends to 'x'" in ex.check("x", c5).message
    assert "name only" in ex.check("default/api", c5).message


def _blog(path="/", service="blog", port=80, spec="  ingressClassName: nginx\n"):
    return ("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: blog}\nspec:\n"
            f"{spec}  rules:\n  - host: blog.example.com\n    http:\n      paths:\n"
            f"      - {{path: {path}, pathType: Prefix, backend: {{service: {{name: {service}, "
            f"port: {{number: {port}}}}}}}}}\n")


def test_5_2_solution_and_hints(c5):
    ex = kl.exercise("5.2")
    assert "host: blog.example.com" in ex.check("done", c5).message
    # ingress-nginx's IngressClass nginx is not the default: a class-less Ingress is ignored
    c5.apply(_blog(spec=""))
    assert "ingressClassName: nginx" in ex.check("done", c5).message
    c5.apply(_blog(path="/admin"))
    assert "404" in ex.check("done", c5).message
    c5.apply(_blog(port=8080))
    assert "503" in ex.check("done", c5).message
    c5.apply(_blog(spec="  ingressClassName: nginx\n  tls: [{hosts: [blog.example.com]}]\n"))
    assert "308" in ex.check("done", c5).message
    c5.apply(_blog())
    assert ex.check("done", c5).passed
