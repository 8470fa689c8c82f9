"""Under ClientIP affinity each client sticks to one endpoint, and different clients pick
independently (kube-proxy's ``recent`` lists are per source address; the first pick of
each client is its own ``statistic`` draw): they do not all land on the same pod."""

import kubenet_lab as kl
from kubenet_lab.analysis.load_balancing import spread
from kubenet_lab.dataplane.tables import Dataplane


def test_each_client_sticks_to_its_own_endpoint_and_clients_differ():
    c = kl.Cluster(workers=2)
    for i in range(3):
        c.add_pod(f"default/web-{i}", node=f"node-{1 + i % 2}", labels={"app": "web"})
    clients = [c.add_pod(f"default/client-{i}", node="node-1").ref for i in range(6)]
    c.add_service("default/web", selector={"app": "web"}, session_affinity="ClientIP", ports=[80])
    dp = Dataplane(c.store.snapshot(), c.runtime)
    picks = []
    for client in clients:
        counts = {k: v for k, v in spread(dp, client, "default/web", requests=50).items() if v}
        assert len(counts) == 1 and sum(counts.values()) == 50  # sticks
        picks.append(next(iter(counts)))
    assert len(set(picks)) > 1
    # without affinity every client spreads over all three
    c.add_service("default/plain", selector={"app": "web"}, ports=[80])
    dp = Dataplane(c.store.snapshot(), c.runtime)
    assert all(len([v for v in spread(dp, cl, "default/plain", requests=300).values() if v]) == 3
               for cl in clients[:2])
