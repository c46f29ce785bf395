
// The superbill-inclusion slot: on which day of a month superbills are made, and which lines they
// hold. As autobill does by default: superbills are made on the practice's superbill day, clamped
// to the month's last day. For each client whose automatic superbills setting is on, one
// superbill holds every CPT-coded line from the previous month or earlier.

export const superbillInclusion = {
  checkConfig(config) {
    expectEmpty(config);
  },

  superbillRunDay(practice, year, month) {
    const day = practice.automation.superbillDay;
    if (day < 1 || day > 31) throw `the practice's superbill day is ${day}; it must be 1 to 31`;
    const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
    return Math.min(day, lastDay);
  },

  selectLines(practice, runDate, clients, catalog, lines) {
    const automatic = new Set(clients.filter((client) => client.autoSuperbills).map((client) => client.clientId));
    const earlierMonth = (date) => date.year < runDate.year || (date.year === runDate.year && date.month < runDate.month);
    const superbills = new Map();
    for (const line of lines) {
      const cptCode = catalog.services[line.service]?.cptCode;
      const insuranceEligible = typeof cptCode === "string" && cptCode.trim() !== "";
      if (insuranceEligible && automatic.has(line.clientId) && earlierMonth(line.date)) {
        if (!superbills.has(line.clientId)) superbills.set(line.clientId, { clientId: line.clientId, lines: [] });
        superbills.get(line.clientId).lines.push(line.lineId);
      }
    }
    return [...superbills.values()];
  },
};
