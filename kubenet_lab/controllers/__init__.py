"""The controllers: what turns accepted objects into running ones. ``apply`` (kind ->
handler), the scheduler, the Deployment/ReplicaSet controller, the EndpointSlice
controller, the cloud's load-balancer controller and NAT gateways, the ingress
controller, and kubeadm's bootstrap of a new cluster."""
