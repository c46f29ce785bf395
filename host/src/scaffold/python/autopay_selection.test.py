
    def test_every_open_balance_is_charged_in_full(self):
        def candidate(bill_id, balance):
            return types.AutopayCandidate(bill_id=bill_id, client_id=7, balance=balance, age_days=0, attempts=0,
                                          last_decline_code=None, client_disputed=False)

        decisions = app.AutopaySelection().select_charges(practice(autopay=True), [candidate(1, 300),
                                                                                  candidate(2, 15000)])
        self.assertEqual(decisions, [types.AutopayDecision_Charge(300), types.AutopayDecision_Charge(15000)])
