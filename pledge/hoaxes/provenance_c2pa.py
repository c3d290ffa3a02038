"""Content Credentials (C2PA) of an uploaded picture, read and validated by the c2pa library
with nothing fetched from the network: the claim generator, the signer, whether the signature,
the binding to the pixels and the trust in the signer hold, and the recorded actions with their
digital source types. The library (23 MB of native code) is imported only for a file that
carries a manifest store."""

from __future__ import annotations

import functools
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pledge.hoaxes import provenance_text as text

MAX_ACTIONS = 20

# c2pa-rs settings: nothing is ever fetched. Remote manifests, OCSP and any other request are off
# and every host is refused. No trust list is configured, so a signer is "trusted" only once
# one is; identity assertions (which may resolve did:web documents) are not decoded.
C2PA_SETTINGS: dict[str, Any] = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_after_reading": True},
    "core": {
        "allowed_network_hosts": [],
        "allow_redirects": False,
        "decode_identity_assertions": False,
        "max_decompressed_manifest_size_in_mb": 4,
    },
}
# The certificates whose signers count as trusted: a PEM file the operator names (the C2PA
# trust list, say); read from the environment, as a decoder process reads no settings.
TRUST_ANCHORS_ENV = "PLEDGE_C2PA_TRUST_ANCHORS"


@functools.cache
def _anchors(path: str) -> str:
    try:
        return Path(path).read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""


def c2pa_settings() -> dict[str, Any]:
    """C2PA_SETTINGS, with the operator's trust anchors when there are any."""
    path = os.environ.get(TRUST_ANCHORS_ENV, "")
    anchors = _anchors(path) if path else ""
    if "BEGIN CERTIFICATE" not in anchors:
        return C2PA_SETTINGS
    return {**C2PA_SETTINGS, "trust": {"trust_anchors": anchors}}


# Validation failures (C2PA specification 15) that say only that the signer is on no trust list
# we hold: the signature itself may be good.
_TRUST_ONLY = frozenset({"signingCredential.untrusted", "timeStamp.untrusted"})
_BINDING = re.compile(r"^assertion\.(?:dataHash|boxesHash|bmffHash|collectionHash)\.")
_ACTIONS_LABEL = re.compile(r"^c2pa\.actions(?:\.v\d+)?$")


@dataclass(frozen=True, slots=True)
class Credentials:
    generator: str  # the claim generator, "name/version"
    signer: str  # the signing certificate's organisation (or common name), as c2pa reports it
    signature_valid: bool  # the claim and its signature validate (whoever signed)
    binding_valid: bool  # the hash of the asset matches: the pixels are those signed
    trusted: bool  # the signer is on a trust list held here
    actions: tuple[tuple[str, str], ...] = ()  # (action, digital source type term or "")


class CredentialsUnreadable(Exception):
    """A manifest store that c2pa could not read, or one kept outside the file."""


def read_credentials(raw: bytes, mime: str) -> Credentials:
    """The Content Credentials embedded in an asset, validated by c2pa with C2PA_SETTINGS;
    CredentialsUnreadable when there are none it can read."""
    try:
        # Imported only for a file that carries a manifest store: the library is 23 MB of
        # native code, which most uploads never need in their decoder process.
        import c2pa

        with (
            c2pa.Context.from_dict(c2pa_settings()) as context,
            c2pa.Reader(mime, io.BytesIO(raw), context=context) as reader,
        ):
            if not reader.is_embedded():
                raise CredentialsUnreadable("a remote manifest")
            store = json.loads(reader.json())
    except CredentialsUnreadable:
        raise
    except Exception as error:
        # c2pa's errors, and whatever a native library answers for a store it cannot read.
        raise CredentialsUnreadable(str(error)[:200]) from error
    return credentials_from_store(store)


def credentials_from_store(store: object) -> Credentials:
    """Credentials from c2pa's report of a manifest store (Reader.json())."""
    if not isinstance(store, dict):
        raise CredentialsUnreadable("not a manifest store")
    manifests, active = store.get("manifests"), store.get("active_manifest")
    if not isinstance(manifests, dict) or not isinstance(manifests.get(active), dict):
        raise CredentialsUnreadable("no active manifest")
    manifest = manifests[active]
    signature_valid, binding_valid, trusted = _validity(store)
    signature = manifest.get("signature_info")
    signature = signature if isinstance(signature, dict) else {}
    signer = _string(signature.get("issuer")) or _string(signature.get("common_name"))
    # The active manifest's actions, then its ingredients' (an edit of a generated picture
    # keeps "created, trainedAlgorithmicMedia" in the manifest of what it edited).
    ordered = [manifest, *(m for label, m in manifests.items() if label != active)]
    return Credentials(
        generator=text.clean(_claim_generator(manifest)),
        signer=text.clean(signer),
        signature_valid=signature_valid,
        binding_valid=binding_valid,
        trusted=trusted,
        actions=tuple(_actions(ordered))[:MAX_ACTIONS],
    )


def _validity(store: dict[str, Any]) -> tuple[bool, bool, bool]:
    """Whether the signature, the binding and the trust in the signer validate, from the
    active manifest's status codes. A failure not known to concern only trust or the binding
    counts against the signature: anything unexplained fails closed."""
    results = store.get("validation_results")
    active = results.get("activeManifest") if isinstance(results, dict) else None
    if not isinstance(active, dict):
        raise CredentialsUnreadable("no validation results")
    successes, failures = _codes(active.get("success")), _codes(active.get("failure"))
    binding_failed = any(_BINDING.match(code) for code in failures)
    other_failed = any(code not in _TRUST_ONLY and not _BINDING.match(code) for code in failures)
    if store.get("validation_state") not in ("Valid", "Trusted") and not binding_failed:
        other_failed = True  # invalid for a reason not in the codes read
    signature_valid = "claimSignature.validated" in successes and not other_failed
    binding_valid = not binding_failed and any(
        _BINDING.match(code) and code.endswith(".match") for code in successes
    )
    trusted = signature_valid and "signingCredential.trusted" in successes
    return signature_valid, binding_valid, trusted


def _codes(entries: object) -> set[str]:
    if not isinstance(entries, list):
        return set()
    return {e["code"] for e in entries if isinstance(e, dict) and isinstance(e.get("code"), str)}


def _claim_generator(manifest: dict[str, Any]) -> str:
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info and isinstance(info[0], dict):
        name, version = _string(info[0].get("name")), _string(info[0].get("version"))
        return f"{name}/{version}" if name and version else name
    return _string(manifest.get("claim_generator"))


def _actions(manifests: list[Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for manifest in manifests:
        assertions = manifest.get("assertions") if isinstance(manifest, dict) else None
        for assertion in assertions if isinstance(assertions, list) else []:
            if not isinstance(assertion, dict):
                continue
            if not _ACTIONS_LABEL.match(_string(assertion.get("label"))):
                continue
            data = assertion.get("data")
            actions = data.get("actions") if isinstance(data, dict) else None
            for action in actions if isinstance(actions, list) else []:
                if isinstance(action, dict) and len(found) < MAX_ACTIONS:
                    found.append(
                        (
                            text.clean(_string(action.get("action")), 100),
                            text.source_term(_string(action.get("digitalSourceType"))),
                        )
                    )
    return found


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""
