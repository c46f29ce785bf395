
test("an open bill is emailed after the practice's delay; a void one is skipped with a reason", () => {
  const request = (status) => ({
    document: { documentId: 1n, kind: "bill", clientId: 7n, total: 15000n, paid: 0n, status },
    client: { clientId: 7n, emailOnFile: true, emailAllowed: true, autoSuperbills: false, autoShare: true, autopay: false, cardOnFile: false },
  });
  const decisions = policy.shareFilter.decideShares(practice(), [request("open"), request("void")]);
  assert.deepEqual(decisions, [{ tag: "send", val: 60 }, { tag: "skip", val: "the document is void" }]);
});
