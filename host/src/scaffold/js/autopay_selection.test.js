
test("every open balance is charged in full", () => {
  const candidate = (billId, balance) => ({
    billId, clientId: 7n, balance, ageDays: 0, attempts: 0, lastDeclineCode: undefined, clientDisputed: false,
  });
  const decisions = policy.autopaySelection.selectCharges(practice({ autopay: true }), [candidate(1n, 300n), candidate(2n, 15000n)]);
  assert.deepEqual(decisions, [{ tag: "charge", val: 300n }, { tag: "charge", val: 15000n }]);
});
