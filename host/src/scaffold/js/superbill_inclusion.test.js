
test("superbill day 31 runs on the last day of shorter months", () => {
  const day = (year, month) => policy.superbillInclusion.superbillRunDay(practice({ superbillDay: 31 }), year, month);
  assert.deepEqual([day(2027, 2), day(2028, 2), day(2026, 4)], [28, 29, 30]);
});
