

class AutopaySelection(exports.AutopaySelection):
    """The autopay-selection slot: which of tonight's open bills the nightly autopay charges.

    As autobill does by default: every open balance is charged in full. The host asks only about
    bills it would charge tonight, and refuses a charge of 0 or more than the balance.
    """

    def check_config(self, config):
        expect_empty(config)

    def select_charges(self, practice, candidates):
        return [types.AutopayDecision_Charge(candidate.balance) for candidate in candidates]
