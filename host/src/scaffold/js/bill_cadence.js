
// The bill-cadence slot: on which days bill runs happen, and how unbilled lines become bills.
// As autobill does by default: daily, a run every day with one open bill per client and date of
// service; monthly, a run on the 1st with one open bill per client; manual, a run every day with
// one pended bill per appointment, which a person reviews and opens.

/** Every date from `first` to `last`, inclusive. */
function eachDay(first, last) {
  const dates = [];
  const day = new Date(Date.UTC(first.year, first.month - 1, first.day));
  const end = Date.UTC(last.year, last.month - 1, last.day);
  for (; day.getTime() <= end; day.setUTCDate(day.getUTCDate() + 1)) {
    dates.push({ year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate() });
  }
  return dates;
}

export const billCadence = {
  checkConfig(config) {
    expectEmpty(config);
  },

  billRunDates(practice, first, last) {
    const monthly = practice.automation.billCreation === "monthly";
    return eachDay(first, last).filter((date) => !monthly || date.day === 1);
  },

  groupLines(practice, runDate, catalog, lines) {
    const creation = practice.automation.billCreation;
    const bills = new Map();
    for (const line of lines) {
      const { year, month, day } = line.date;
      const key =
        creation === "monthly"
          ? `${line.clientId}`
          : creation === "daily"
            ? `${line.clientId} ${year}-${month}-${day}`
            : `${line.clientId} ${year}-${month}-${day} ${line.appointmentId}`;
      if (!bills.has(key)) bills.set(key, { clientId: line.clientId, lines: [] });
      bills.get(key).lines.push(line.lineId);
    }
    const status = creation === "manual" ? "pended" : "open";
    return [...bills.values()].map((bill) => ({ ...bill, status }));
  },
};
