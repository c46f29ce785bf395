
test("monthly practices have a bill run on the first only", () => {
  const dates = policy.billCadence.billRunDates(practice({ billCreation: "monthly" }), { year: 2026, month: 1, day: 15 }, { year: 2026, month: 3, day: 10 });
  assert.deepEqual(dates, [{ year: 2026, month: 2, day: 1 }, { year: 2026, month: 3, day: 1 }]);
});
