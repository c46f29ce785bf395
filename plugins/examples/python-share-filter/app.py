"""autobill's documented share filter, written in Python.

Bills and superbills are emailed after the practice's share delay, only when the client's own
sharing switch is on, an email address is on file and the client's communication preferences
allow email. Void and pended documents are never sent. The policy takes no configuration.

Built into a WebAssembly component with componentize-py against the `share-filter-policy` world
of the contract (see README.md); `wit_world` is the module componentize-py generates from it.
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports.types import DocumentStatus, ShareDecision_Send, ShareDecision_Skip

# Why a document is not shared: the reasons staff see on a skipped share.
SHARING_OFF = "automatic sharing is off for this client"
NO_EMAIL = "no email address on file"
EMAIL_OFF = "email is turned off in the client's communication preferences"
VOID = "the document is void"
PENDED = "the bill is pended: it is shared once a person opens it"


def check_empty(config: str) -> None:
    """Accepts only an empty configuration: "", whitespace or {}; raises Err(reason) otherwise."""
    text = config.strip()
    if not text:
        return
    try:
        value = json.loads(text)
    except ValueError as error:
        raise Err(f"the plugin configuration is not valid JSON: {error}")
    if value != {}:
        raise Err("this policy takes no configuration: leave it empty or {}")


def decide(request, delay: int):
    """The decision for one request."""
    client = request.client
    status = request.document.status
    if status == DocumentStatus.VOID:
        return ShareDecision_Skip(VOID)
    if status == DocumentStatus.PENDED:
        return ShareDecision_Skip(PENDED)
    if not client.auto_share:
        return ShareDecision_Skip(SHARING_OFF)
    if not client.email_on_file:
        return ShareDecision_Skip(NO_EMAIL)
    if not client.email_allowed:
        return ShareDecision_Skip(EMAIL_OFF)
    return ShareDecision_Send(delay)


class ShareFilter(exports.ShareFilter):
    """The share-filter slot."""

    def check_config(self, config: str) -> None:
        check_empty(config)

    def decide_shares(self, practice, requests):
        check_empty(practice.config)
        delay = practice.automation.share_delay_minutes
        if delay > 2**31 - 1:
            raise Err("the practice's share delay is too large")
        return [decide(request, delay) for request in requests]
