"""Client addresses as the rate limits and the abuse console see them: the key a limit counts
an address under, and the network a signature is recorded as coming from.

One IPv6 subscriber is given a whole /64 by the carrier and may use any address in it, so
every address of one /64 is one client: a limit keyed on the whole address would be no limit.
An IPv4 address is one client (often thousands of them behind a carrier's NAT, which is why
over-limit signatures are held for review rather than refused).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

IPv4Net = ipaddress.IPv4Network
IPv6Net = ipaddress.IPv6Network
Network = IPv4Net | IPv6Net

# The prefix a limit counts one IPv6 client under.
IPV6_CLIENT_PREFIX = 64
# The networks recorded per signature: wide enough to group one carrier's or one host's
# addresses, narrow enough to tell providers apart, and no single address is kept.
IPV4_RECORDED_PREFIX = 24
IPV6_RECORDED_PREFIX = 64
# Longest text of a recorded network: "ffff:ffff:ffff:ffff::/64".
NETWORK_MAX = 43


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # A dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d: the same client.
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=4096)
def limit_key(host: str) -> str:
    """The key the rate limits count a client under: an IPv4 address as it is, an IPv6
    address as its /64 ("2001:db8:1:2::/64"); anything else (a test client's name) as given."""
    address = _address(host)
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address) if address is not None else host


@lru_cache(maxsize=4096)
def recorded_network(host: str) -> str | None:
    """The network a signature from this address is recorded as coming from: the /24 of an
    IPv4 address, the /64 of an IPv6 one; None when the address is not an IP address."""
    address = _address(host)
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv4Address):
        # The /24 written from the address's first three bytes: on every signature from a
        # new address, a network object would parse them all again.
        first, second, third, _host = address.packed
        return f"{first}.{second}.{third}.0/{IPV4_RECORDED_PREFIX}"
    return str(ipaddress.IPv6Network((address, IPV6_RECORDED_PREFIX), strict=False))


def parse_network(text: str) -> Network:
    """A network as written by a person: "203.0.113.0/24", "2001:db8::/48", or one address
    (its recorded network). Host bits are dropped ("203.0.113.7/24" is 203.0.113.0/24).
    ValueError when it is no network, or narrower than the networks signatures are recorded
    with (a /32 could match none of them)."""
    value = text.strip()
    if "/" not in value:
        address = _address(value)
        if address is None:
            raise ValueError(value)
        return ipaddress.ip_network(recorded_network(str(address)) or "")
    network = ipaddress.ip_network(value, strict=False)
    if isinstance(network, IPv6Net) and network.network_address.ipv4_mapped is not None:
        raise ValueError(value)
    recorded = IPV4_RECORDED_PREFIX if network.version == 4 else IPV6_RECORDED_PREFIX
    if network.prefixlen > recorded:
        raise NarrowerThanRecorded(recorded)
    return network


class NarrowerThanRecorded(ValueError):
    """A network narrower than the networks signatures are recorded with."""

    def __init__(self, prefix: int) -> None:
        super().__init__(prefix)
        self.prefix = prefix


def contains(network: Network, recorded: str) -> bool:
    """Whether a recorded network lies within this one."""
    try:
        inner = ipaddress.ip_network(recorded)
    except ValueError:
        return False
    return inner.version == network.version and inner.subnet_of(network)  # type: ignore[arg-type]
