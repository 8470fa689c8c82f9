"""Cluster.exec answers every bad or odd command line as the real program does (its usage
or its error text), never with a Python exception (issue 10).

Each expected text is what the real tool prints: iputils 20240905 (ping/ping.c,
iputils_common.c ``strtol_or_err``), traceroute 2.1.2 (libsupp/clif.c, traceroute.c),
curl 8.5 (lib/urlapi.c, lib/strerror.c, src/tool_getparam.c), iproute2 6.1 (ip/iproute.c,
lib/utils.c), bash and dash (``execve``'s E2BIG), kubectl 1.35 (spf13/pflag,
k8s.io/kubectl templater.FlagErrorFunc, k8s.io/cli-runtime v0.35.4 print_flags.go); most
were checked against the Debian binaries.
"""

import random
import shlex
import time

import pytest

import kubenet_lab as kl
from kubenet_lab.tools.options import getopt, strtod, strtol, strtoul
from kubenet_lab.tools.shell import split_words

TRY_CURL = "curl: try 'curl --help' or 'curl --manual' for more information"


@pytest.fixture
def c():
    c = kl.Cluster(workers=2)
    c.add_pod("default/a", node="node-1")
    c.add_pod("default/b", node="node-2")
    return c


# --------------------------------------------------------------------------- numbers
@pytest.mark.parametrize(("command", "answer"), [
    ("ping -c ² 10.244.2.2", "ping: invalid argument: '²'"),
    ("curl -m ² 10.244.2.2",
     f"curl: option -m: expected a proper numerical parameter\n{TRY_CURL}"),
    ("traceroute -m ² 10.244.2.2", "Cannot handle `-m' option with arg `²' (argc 2)"),
])
def test_a_digit_that_is_not_ascii_is_no_number(c, command, answer):
    assert c.exec("default/a", command) == answer


def test_c_conversions_read_ascii_digits_and_overflow_without_int():
    assert strtol("٣").end == 0
    assert strtol("9" * 100_000).overflow
    assert strtoul("-1").value == 2**64 - 1
    assert strtoul("0x10", base=0).value == 16
    assert strtoul("08", base=0) == (0, 1, False)
    assert strtod("1e400")[2] and strtod(" 5")[:2] == (5.0, 2)
    assert getopt(["-nc3", "x", "-q"], "c:nq") == ([("n", None), ("c", "3"), ("q", None)],
                                                  ["x"])


# --------------------------------------------------------------------------- ping
@pytest.mark.parametrize(("count", "answer"), [
    ("0", "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807"),
    ("-5", "ping: invalid argument: '-5': out of range: 1 <= value <= 9223372036854775807"),
    ("abc", "ping: invalid argument: 'abc'"),
    ("99999999999999999999",
     "ping: invalid argument: '99999999999999999999': Numerical result out of range"),
])
def test_ping_count_as_strtol_or_err_refuses_it(c, count, answer):
    assert c.exec("default/a", f"ping -c {count} 10.244.2.2") == answer
    assert c.exec("default/a", f"ping -c{count} 10.244.2.2") == answer


def test_ping_option_errors_print_the_usage(c):
    missing = c.exec("default/a", "ping -c").splitlines()
    assert missing[:4] == ["ping: option requires an argument -- 'c'", "", "Usage",
                           "  ping [options] <destination>"]
    assert missing[-1] == "For more details see ping(8)."
    assert c.exec("default/a", "ping -x 1.1.1.1").startswith("ping: invalid option -- 'x'\n")
    assert c.exec("default/a", "ping -t 256 -c 1 x") == (
        "ping: invalid argument: '256': out of range: 0 <= value <= 255")
    assert c.exec("default/a", "ping -M foo -c 1 x") == "ping: invalid -M argument: foo"
    assert c.exec("default/a", "ping -W -1 -c 1 x") == "ping: bad linger time: -1"


def test_ping_ipv6_and_quiet(c):
    assert c.exec("default/a", "ping -c 1 fe80::1") == (
        "ping: fe80::1: Address family for hostname not supported")
    quiet = c.exec("default/a", "ping -q -c 2 10.244.2.2").splitlines()
    assert quiet[1:3] == ["", "--- 10.244.2.2 ping statistics ---"]


# --------------------------------------------------------------------------- traceroute
def test_traceroute_caps_max_hops_at_once(c):
    start = time.perf_counter()
    assert c.exec("default/a", "traceroute -m 2147483648 10.244.2.2") == (
        "max hops cannot be more than 255")
    assert time.perf_counter() - start < 0.1
    assert c.exec("default/a", "traceroute -m -1 10.244.2.2") == (
        "max hops cannot be more than 255")  # strtoul wraps -1 around


@pytest.mark.parametrize(("args", "answer"), [
    ("-m abc 10.244.2.2", "Cannot handle `-m' option with arg `abc' (argc 2)"),
    ("-m 0 10.244.2.2", "first hop out of range"),
    ("-m 4294967296 10.244.2.2", "first hop out of range"),  # an unsigned int: 0
    ("-f 5 -m 3 10.244.2.2", "first hop out of range"),
    ("-q 11 10.244.2.2", "no more than 10 probes per hop"),
    ("-m", "Option `-m' (argc 1) requires an argument: `-m max_ttl'"),
    ("-x 10.244.2.2", "Bad option `-x' (argc 1)"),
    ("-n", 'Specify "host" missing argument.'),
    ("10.244.2.2 100 extra", "Extra arg `extra' (position 3, argc 3)"),
    ("10.244.2.2 abc", "Cannot handle \"packetlen\" cmdline arg `abc' on position 2 (argc 2)"),
    ("-n nowhere", "nowhere: Name or service not known\n"
                   "Cannot handle \"host\" cmdline arg `nowhere' on position 1 (argc 2)"),
])
def test_traceroute_answers_as_clif_does(c, args, answer):
    assert c.exec("default/a", f"traceroute {args}") == answer


def test_traceroute_stops_at_max_hops(c):
    out = c.exec("default/a", "traceroute -n -m 1 10.244.2.2").splitlines()
    assert out[0] == "traceroute to 10.244.2.2 (10.244.2.2), 1 hops max, 60 byte packets"
    assert len(out) == 2


# --------------------------------------------------------------------------- curl
@pytest.mark.parametrize(("url", "answer"), [
    ("http://10.244.2.2:²/", "curl: (3) URL rejected: Port number was not a decimal number "
                             "between 0 and 65535"),
    ("http://10.244.2.2:99999/", "curl: (3) URL rejected: Port number was not a decimal "
                                 "number between 0 and 65535"),
    ("'http://a!b/'", "curl: (3) URL rejected: Bad hostname"),
    ("'http://a b/'", "curl: (3) URL rejected: Malformed input to a URL function"),
    ("http:////x", "curl: (3) URL rejected: Unsupported number of slashes following scheme"),
    ("'http://[zz]/'", "curl: (3) URL rejected: Bad IPv6 address"),
    ("foo://x", 'curl: (1) Protocol "foo" not supported or disabled in libcurl'),
    ("http://10.244.0.0:0/api", "curl: (7) Failed to connect to 10.244.0.0 port 0 after 0 ms: "
                                "Couldn't connect to server"),
    ("http://0x0a.244.2.2/", "nginx"),  # ipv4_normalize: 0x0a is 10
])
def test_curl_rejects_urls_as_libcurl_does(c, url, answer):
    got = c.exec("default/a", f"curl {url}")
    if answer == "nginx":  # nginx answers on 10.244.2.2: the URL was read right
        assert "<title>Welcome to nginx!</title>" in got
    else:
        assert got == answer


@pytest.mark.parametrize(("args", "reason"), [
    ("-m abc x", "option -m: expected a proper numerical parameter"),
    ("-m -1 x", "option -m: expected a positive numerical parameter"),
    ("-m 1e400 x", "option -m: too large number"),
    ("-m", "option -m: requires parameter"),
    ("--max-time=5 x", "option --max-time=5: is unknown"),
    ("-m 5", "no URL specified!"),
])
def test_curl_option_errors(c, args, reason):
    assert c.exec("default/a", f"curl {args}") == f"curl: {reason}\n{TRY_CURL}"


# --------------------------------------------------------------------------- the shell
def test_a_megabyte_command_line_answers_fast_and_as_execve_does(c):
    start = time.perf_counter()
    assert c.exec("node-1", "ping -c 1 " + "a" * 1_000_000) == (
        "bash: /usr/bin/ping: Argument list too long")
    assert c.exec("default/a", "ping -c 1 " + "a" * 1_000_000) == (
        "sh: 1: ping: Argument list too long")
    assert c.exec("node-1", "ping " + "a " * 500_000) == (
        "bash: /usr/bin/ping: Argument list too long")  # more than 2 MiB with the pointers
    assert c.exec("node-1", "traceroute " + "'a b' " * 200_000) == (
        "bash: /usr/sbin/traceroute: Argument list too long")
    assert time.perf_counter() - start < 4
    # MAX_ARG_STRLEN is 128 KiB with the NUL: one byte less passes
    assert c.exec("node-1", "ping -c 1 " + "a" * 131_071).startswith("ping: aaa")
    assert "Argument list too long" in c.exec("node-1", "ping -c 1 " + "a" * 131_072)


def test_words_are_split_as_shlex_splits_them():
    rng = random.Random(0)
    alphabet = ["a", " ", "\t", "'", '"', "\\", "#", "é", "\n"]
    for _ in range(3000):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        try:
            expected = shlex.split(line)
        except ValueError:
            expected = None
        assert split_words(line) == expected, line


def test_sudo_and_unknown_commands(c):
    assert c.exec("node-1", "sudo nope") == "sudo: nope: command not found"
    assert c.exec("node-1", "sudo -E ip route get 10.0.1.6").startswith("10.0.1.6 dev eth0")
    assert c.exec("node-1", "sudo sudo hostname") == "node-1"
    assert c.exec("default/a", "kubectl get pods") == "sh: 1: kubectl: not found"


def test_cat_and_hostname(c):
    assert c.exec("node-1", "cat -x") == (
        "cat: invalid option -- 'x'\nTry 'cat --help' for more information.")
    assert c.exec("node-1", "cat /etc ''") == (
        "cat: /etc: Is a directory\ncat: '': No such file or directory")
    assert c.exec("default/a", "hostname -i") == "10.244.1.2"
    assert c.exec("default/a", "hostname x") == (
        "hostname: you must be root to change the host name")


# --------------------------------------------------------------------------- ip
def test_ipv6_routes_are_refused_and_traces_go_on(c):
    assert c.exec("node-1", "ip route replace unreachable ::/0") == (
        "RTNETLINK answers: Operation not supported")
    assert c.exec("node-1", "ip route add blackhole fe80::/64") == (
        "RTNETLINK answers: Operation not supported")
    assert c.exec("node-1", "ip route get fe80::1") == "RTNETLINK answers: Operation not supported"
    assert c.exec("node-1", "ip -6 route") == ""
    assert c.exec("node-1", "ip route add 10.9.0.0/16 via inet6 fe80::1 dev eth0") == (
        "Error: IPv6 support not enabled in kernel.")
    assert c.trace("node-1", "default/b").delivered
    assert " 0% packet loss" in c.exec("node-1", "ping -c 1 10.244.2.2")


@pytest.mark.parametrize(("command", "answer"), [
    ("ip route add 10.0.0.0/33 dev eth0", 'Error: any valid prefix is expected rather than '
                                          '"10.0.0.0/33".'),
    ("ip route add foo", 'Error: any valid prefix is expected rather than "foo".'),
    ("ip route add 10.0.0.0/08 dev eth0", 'Error: any valid prefix is expected rather than '
                                          '"10.0.0.0/08".'),
    ("ip route add 10.0.0.1/8 dev eth0", "Error: Invalid prefix for given prefix length."),
    ("ip route add blackhole", 'Command line is not complete. Try option "help"'),
    ("ip route add 10.0.0.0/8 via", 'Command line is not complete. Try option "help"'),
    ("ip route add 10.0.0.0/8 via fe80::1", 'Error: inet address is expected rather than '
                                            '"fe80::1".'),
    ("ip route add 10.0.0.0/8 foo bar", 'Error: either "to" is duplicate, or "foo" is a '
                                        'garbage.'),
    ("ip route add 10.0.0.0/8 dev eth0 metric abc",
     'Error: argument "abc" is wrong: "metric" value is invalid\n'),
    ("ip route add 10.0.0.0/8 dev eth0 scope foo",
     'Error: argument "foo" is wrong: invalid "scope" value\n'),
    ("ip route add blackhole 10.7.0.0/16 dev eth0",
     "Error: Gateway, device and multipath can not be specified for this route type."),
    ("ip route get", "need at least a destination address"),
    ("ip route get 1.2.3.4 foo", 'Error: inet prefix is expected rather than "foo".'),
    ("ip route show dev nope", 'Cannot find device "nope"'),
    ("ip -x route", 'Option "-x" is unknown, try "ip -help".'),
    ("ip ''", 'Object "" is unknown, try "ip help".'),
    ("ip addr show dev", 'Command line is not complete. Try option "help"'),
    ("ip route add ...", 'Error: any valid prefix is expected rather than "...".'),
])
def test_ip_answers_as_iproute2_does(c, command, answer):
    assert c.exec("node-1", command) == answer


def test_ip_reads_prefixes_as_get_prefix_does(c):
    assert c.exec("node-1", "ip route add 10/8 dev cni0") == ""
    assert c.exec("node-1", "ip route add 10.1.0.0/255.255.0.0 dev cni0") == ""
    routes = c.exec("node-1", "ip route").splitlines()
    assert "10.0.0.0/8 dev cni0 scope link" in routes
    assert "10.1.0.0/16 dev cni0 scope link" in routes
    assert c.exec("node-1", "ip route add 0.0.0.0/0 via 10.0.1.1") == (
        "RTNETLINK answers: File exists")  # it is the default route


# --------------------------------------------------------------------------- kubectl
@pytest.mark.parametrize(("args", "answer"), [
    ("get pods --foo", "error: unknown flag: --foo\nSee 'kubectl get --help' for usage."),
    ("get pods -x", "error: unknown shorthand flag: 'x' in -x\n"
                    "See 'kubectl get --help' for usage."),
    ("get pods -n", "error: flag needs an argument: 'n' in -n\n"
                    "See 'kubectl get --help' for usage."),
    ("get foo", 'error: the server doesn\'t have a resource type "foo"'),
    ("get pods nope", 'Error from server (NotFound): pods "nope" not found'),
    # kubectl 1.35 lists kyaml by default (cli-runtime v0.35.4 json_yaml_flags.go
    # AllowedFormats: unless KUBECTL_KYAML=false); NoCompatiblePrinterError sorts the list
    ("get pods -o foo", 'error: unable to match a printer suitable for the output format '
                        '"foo", allowed formats are: custom-columns,custom-columns-file,'
                        'go-template,go-template-file,json,jsonpath,jsonpath-as-json,'
                        'jsonpath-file,kyaml,name,template,templatefile,wide,yaml'),
    ("get pods -o kyaml", "error: the lab prints only the table, -o wide and -o yaml"),
])
def test_kubectl_answers_as_kubectl_does(c, args, answer):
    assert c.exec("node-1", f"kubectl {args}") == answer


def test_kubectl_get_by_name(c):
    assert c.exec("node-1", "kubectl get pods b").splitlines() == [
        "NAME   READY   STATUS    RESTARTS   AGE", "b      1/1     Running   0          0s"]


# --------------------------------------------------------------------------- everything
WORDS = ["-c", "-m", "-n", "-i", "-s", "-A", "-o", "-6", "--", "--foo", "0", "-1", "255",
         "4294967296", "9" * 5000, "²", "", "'", "é", "10.244.2.2", "10.0.0.0/33", "::/0",
         "fe80::1", "http://[::1]:0/", "http://web:99999/", "default", "blackhole", "via",
         "dev", "eth0", "nope", "add", "get", "show", "pods", "wide", "nat", "inf", "nan",
         "0x10", "-V", "-h", "a" * 300]
TOOLS = ["ip", "ip route", "ip route add", "ip route get", "bridge", "iptables-save", "ping",
         "traceroute", "nslookup", "curl", "tcpdump", "kubectl get", "cat", "hostname",
         "sudo"]


@pytest.mark.parametrize("where", ["node-1", "default/a"])
def test_no_command_line_raises(c, where):
    rng = random.Random(where)
    for _ in range(400):
        words = [rng.choice(WORDS) for _ in range(rng.randint(0, 5))]
        line = rng.choice(TOOLS) + " " + " ".join(shlex.quote(w) for w in words)
        start = time.perf_counter()
        assert isinstance(c.exec(where, line), str), line
        assert time.perf_counter() - start < 0.5, line
