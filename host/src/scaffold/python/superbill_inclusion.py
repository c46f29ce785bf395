

class SuperbillInclusion(exports.SuperbillInclusion):
    """The superbill-inclusion slot: on which day of a month superbills are made, and which lines
    they hold.

    As autobill does by default: superbills are made on the practice's superbill day, clamped to
    the month's last day. For each client whose automatic superbills setting is on, one superbill
    holds every CPT-coded line from the previous month or earlier.
    """

    def check_config(self, config):
        expect_empty(config)

    def superbill_run_day(self, practice, year, month):
        day = practice.automation.superbill_day
        if not 1 <= day <= 31:
            raise Err(f"the practice's superbill day is {day}; it must be 1 to 31")
        return min(day, calendar.monthrange(year, month)[1])

    def select_lines(self, practice, run_date, clients, catalog, lines):
        automatic = {client.client_id for client in clients if client.auto_superbills}
        superbills = {}
        for line in lines:
            service = catalog.services[line.service] if line.service < len(catalog.services) else None
            insurance_eligible = service is not None and bool((service.cpt_code or "").strip())
            earlier_month = (line.date.year, line.date.month) < (run_date.year, run_date.month)
            if insurance_eligible and line.client_id in automatic and earlier_month:
                superbills.setdefault(line.client_id, []).append(line.line_id)
        return [types.SuperbillPlan(client_id=client_id, lines=ids) for client_id, ids in superbills.items()]
