"""``iptables -S`` on a node: one chain's rules, or a whole table's, as iptables 1.8.10
(nf_tables) lists them.

The expected texts follow netfilter's iptables source: ``nft_rule_list_save`` and
``nft_rule_list_chain_save`` (iptables/nft.c: ``-P CHAIN POLICY`` for a built-in chain,
``-N CHAIN`` for a user chain, policies and chains first when no chain is named, one rule
for a rule number and nothing past the last), ``nft_strerror``'s ENOENT message
(``No chain/target/match by that name``), ``do_parse`` and ``add_command``
(iptables/xshared.c) and ``basic_exit_err`` (libxtables/xtables.c) for the parameter and
version problems.
"""

import pytest

import kubenet_lab as kl

TRY = "Try `iptables -h' or 'iptables --help' for more information."


@pytest.fixture(scope="module")
def c():
    return kl.broken_cluster("masquerade")


def _save(c, table):
    return c.exec("node-1", f"iptables-save -t {table}").splitlines()


def test_a_chain_is_its_policy_then_its_rules_as_iptables_save_prints_them(c):
    out = c.exec("node-1", "iptables -t nat -S POSTROUTING").splitlines()
    assert out[0] == "-P POSTROUTING ACCEPT"
    assert out[1:] == [line for line in _save(c, "nat") if line.startswith("-A POSTROUTING ")]
    client = c.pod("default/client").ip
    jump = next(line for line in out if f"-s {client}/32 " in line).split(" -j ")[1]
    chain = c.exec("node-1", f"iptables -t nat -S {jump}").splitlines()
    assert chain[0] == f"-N {jump}"  # a user chain has no policy
    assert chain[1:] == [line for line in _save(c, "nat") if line.startswith(f"-A {jump} ")]
    assert chain[-1].endswith("-j MASQUERADE")


def test_without_a_chain_policies_and_chains_come_first(c):
    out = c.exec("node-1", "iptables -S").splitlines()  # the filter table by default
    heads = [line for line in out if line.startswith(("-P ", "-N "))]
    assert out[:len(heads)] == heads
    assert heads[:3] == ["-P INPUT ACCEPT", "-P FORWARD ACCEPT", "-P OUTPUT ACCEPT"]
    declared = [line[1:].split()[0] for line in _save(c, "filter") if line.startswith(":")]
    assert [h.split()[1] for h in heads] == declared
    assert out[len(heads):] == [line for line in _save(c, "filter") if line.startswith("-A ")]


def test_a_rule_number_picks_one_rule_and_nothing_past_the_last(c):
    rules = c.exec("node-1", "iptables -t nat -S POSTROUTING").splitlines()[1:]
    assert c.exec("node-1", "iptables -t nat -S POSTROUTING 2") == rules[1]
    assert c.exec("node-1", "iptables -t nat -S POSTROUTING 0x2") == rules[1]  # base 0
    assert c.exec("node-1", f"iptables -t nat -S POSTROUTING {len(rules) + 1}") == ""


@pytest.mark.parametrize("line, answer", [
    ("iptables -t nat -S NOPE", "iptables: No chain/target/match by that name."),
    ("iptables -S POSTROUTING", "iptables: No chain/target/match by that name."),
    ("iptables -t foo -S", "iptables v1.8.10 (nf_tables): table 'foo' does not exist\n"
                           "Perhaps iptables or your kernel needs to be upgraded."),
    ("iptables", f"iptables v1.8.10 (nf_tables): no command specified\n{TRY}"),
    ("iptables -t", f'iptables v1.8.10 (nf_tables): option "-t" requires an argument\n{TRY}'),
    ("iptables -q", f'iptables v1.8.10 (nf_tables): unknown option "-q"\n{TRY}'),
    ("iptables -S INPUT x", f"iptables v1.8.10 (nf_tables): Invalid rule number `x'\n{TRY}"),
    ("iptables -S INPUT 0", f"iptables v1.8.10 (nf_tables): Invalid rule number `0'\n{TRY}"),
    ("iptables -S -S", f"iptables v1.8.10 (nf_tables): Cannot use -S with -S\n{TRY}"),
    ("iptables -S INPUT 1 foo", f"Bad argument `foo'\n{TRY}"),
    ("iptables -V", "iptables v1.8.10 (nf_tables)"),
])
def test_errors_as_iptables_prints_them(c, line, answer):
    assert c.exec("node-1", line) == answer


def test_the_chain_may_be_attached_and_the_lock_options_change_nothing(c):
    want = c.exec("node-1", "iptables -t nat -S OUTPUT")
    for line in ("iptables -tnat -SOUTPUT", "iptables --table=nat --list-rules=OUTPUT",
                 "iptables -w -t nat -S OUTPUT", "iptables -w 5 -n -t nat -S OUTPUT",
                 "sudo iptables -t nat -S OUTPUT"):
        assert c.exec("node-1", line) == want, line


def test_what_the_lab_does_not_model_is_said_and_a_pod_is_refused(c):
    assert "the lab lists rules with -S only" in c.exec("node-1", "iptables -L -n")
    assert "the lab lists rules with -S only" in c.exec(
        "node-1", "iptables -t nat -A POSTROUTING -j ACCEPT")
    assert "filter and nat tables only" in c.exec("node-1", "iptables -t mangle -S")
    assert c.exec("default/client", "iptables -S") == (
        "iptables v1.8.10 (nf_tables): Could not fetch rule set generation id: Permission "
        "denied (you must be root)")
