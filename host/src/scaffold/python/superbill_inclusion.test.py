
    def test_superbill_day_31_runs_on_the_last_day_of_shorter_months(self):
        policy = app.SuperbillInclusion()
        days = [policy.superbill_run_day(practice(superbill_day=31), year, month)
                for year, month in [(2027, 2), (2028, 2), (2026, 4)]]
        self.assertEqual(days, [28, 29, 30])
