"""Where a signature comes from, as the abuse console and invalidations see it: an email
contact's domain, folded so that one domain has one spelling however it was typed."""

from __future__ import annotations

from functools import lru_cache

import idna

DOMAIN_MAX = 253


# Signatures come from few domains, again and again: each is folded once per process.
@lru_cache(maxsize=4096)
def fold_domain(domain: str) -> str:
    """A domain as DNS knows it: lower-case, its international names in their ASCII form
    (bücher.example is xn--bcher-kva.example), without a trailing dot."""
    value = domain.strip().rstrip(".").lower()
    try:
        return idna.encode(value, uts46=True).decode("ascii")
    except UnicodeError:  # idna.IDNAError and its kin: a name IDNA cannot map stays as written
        return value


def email_domain_of(contact: str) -> str | None:
    """The folded domain of an email contact; None for a phone number."""
    _local, at, domain = contact.rpartition("@")
    if not at or not domain:
        return None
    return fold_domain(domain)[:DOMAIN_MAX]
