// Unit tests of the policy, run natively with `node --test` (no component needed).
import assert from "node:assert/strict";
import { test } from "node:test";
import * as policy from "./policy.js";

const practice = (automation = {}) => ({
  practiceId: 1n,
  timezone: "America/New_York",
  currency: "USD",
  automation: { billCreation: "daily", superbillDay: 1, shareByDefault: false, shareDelayMinutes: 60, autopay: false, ...automation },
  config: "",
});
