
    def test_monthly_practices_have_a_bill_run_on_the_first_only(self):
        dates = app.BillCadence().bill_run_dates(practice(bill_creation=types.BillCreation.MONTHLY),
                                                 types.Date(2026, 1, 15), types.Date(2026, 3, 10))
        self.assertEqual(dates, [types.Date(2026, 2, 1), types.Date(2026, 3, 1)])
