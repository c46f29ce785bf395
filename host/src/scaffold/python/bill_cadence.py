

class BillCadence(exports.BillCadence):
    """The bill-cadence slot: on which days bill runs happen, and how unbilled lines become bills.

    As autobill does by default: daily, a run every day with one open bill per client and date of
    service; monthly, a run on the 1st with one open bill per client; manual, a run every day with
    one pended bill per appointment, which a person reviews and opens.
    """

    def check_config(self, config):
        expect_empty(config)

    def bill_run_dates(self, practice, first, last):
        monthly = practice.automation.bill_creation == types.BillCreation.MONTHLY
        day = datetime.date(first.year, first.month, first.day)
        end = datetime.date(last.year, last.month, last.day)
        dates = []
        while day <= end:
            if not monthly or day.day == 1:
                dates.append(types.Date(year=day.year, month=day.month, day=day.day))
            day += datetime.timedelta(days=1)
        return dates

    def group_lines(self, practice, run_date, catalog, lines):
        creation = practice.automation.bill_creation
        bills = {}
        for line in lines:
            date = (line.date.year, line.date.month, line.date.day)
            if creation == types.BillCreation.MONTHLY:
                key = (line.client_id,)
            elif creation == types.BillCreation.DAILY:
                key = (line.client_id, date)
            else:
                key = (line.client_id, date, line.appointment_id)
            bills.setdefault(key, []).append(line.line_id)
        status = types.BillStatus.PENDED if creation == types.BillCreation.MANUAL else types.BillStatus.OPEN
        return [types.BillPlan(client_id=key[0], lines=ids, status=status) for key, ids in bills.items()]
