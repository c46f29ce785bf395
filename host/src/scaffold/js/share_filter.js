
// The share-filter slot: which billing documents are emailed, and after what delay. As autobill
// does by default: bills and superbills are emailed after the practice's share delay, only when
// the client's own sharing switch is on, an email address is on file and the client's
// communication preferences allow email. Void and pended documents are never sent.

/** Why a document is not emailed, shown to staff; null when it is. */
function skipReason(request) {
  const { document, client } = request;
  if (document.status === "void") return "the document is void";
  if (document.status === "pended") return "the bill is pended: it is shared once a person opens it";
  if (!client.autoShare) return "automatic sharing is off for this client";
  if (!client.emailOnFile) return "no email address on file";
  if (!client.emailAllowed) return "email is turned off in the client's communication preferences";
  return null;
}

export const shareFilter = {
  checkConfig(config) {
    expectEmpty(config);
  },

  decideShares(practice, requests) {
    const delay = practice.automation.shareDelayMinutes;
    return requests.map((request) => {
      const reason = skipReason(request);
      return reason === null ? { tag: "send", val: delay } : { tag: "skip", val: reason };
    });
  },
};
