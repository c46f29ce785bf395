

def skip_reason(request):
    """Why a document is not emailed, shown to staff; None when it is."""
    client = request.client
    status = request.document.status
    if status == types.DocumentStatus.VOID:
        return "the document is void"
    if status == types.DocumentStatus.PENDED:
        return "the bill is pended: it is shared once a person opens it"
    if not client.auto_share:
        return "automatic sharing is off for this client"
    if not client.email_on_file:
        return "no email address on file"
    if not client.email_allowed:
        return "email is turned off in the client's communication preferences"
    return None


class ShareFilter(exports.ShareFilter):
    """The share-filter slot: which billing documents are emailed, and after what delay.

    As autobill does by default: bills and superbills are emailed after the practice's share delay,
    only when the client's own sharing switch is on, an email address is on file and the client's
    communication preferences allow email. Void and pended documents are never sent.
    """

    def check_config(self, config):
        expect_empty(config)

    def decide_shares(self, practice, requests):
        delay = practice.automation.share_delay_minutes
        decisions = []
        for request in requests:
            reason = skip_reason(request)
            decisions.append(types.ShareDecision_Send(delay) if reason is None else types.ShareDecision_Skip(reason))
        return decisions
