
// The autopay-selection slot: which of tonight's open bills the nightly autopay charges, and how
// much. As autobill does by default: every open balance is charged in full. The host asks only
// about bills it would charge tonight, and refuses a charge of 0 or more than the balance.

export const autopaySelection = {
  checkConfig(config) {
    expectEmpty(config);
  },

  selectCharges(practice, candidates) {
    return candidates.map((candidate) => ({ tag: "charge", val: candidate.balance }));
  },
};
