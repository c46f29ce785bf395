// Unit tests of the policy's decisions, run natively with `node --test` (no component needed).
import assert from "node:assert/strict";
import { test } from "node:test";
import { shareFilter } from "./policy.js";

const practice = (config = "") => ({ config, automation: { shareDelayMinutes: 60 } });
const request = (kind, status, client = {}) => ({
  document: { documentId: 1, kind, status, clientId: 7, total: 15000n, paid: 0n },
  client: { clientId: 7, autoShare: true, emailOnFile: true, emailAllowed: true, ...client },
});

test("superbills are emailed after the practice's delay and bills are left to staff", () => {
  const [bill, superbill] = shareFilter.decideShares(practice(), [request("bill", "open"), request("superbill", "issued")]);
  assert.equal(bill.tag, "skip");
  assert.match(bill.val, /bills are not emailed automatically/);
  assert.deepEqual(superbill, { tag: "send", val: 60 });
});

test("a configured delay replaces the practice's", () => {
  const [decision] = shareFilter.decideShares(practice('{"delay_minutes": 1440}'), [request("superbill", "issued")]);
  assert.deepEqual(decision, { tag: "send", val: 1440 });
});

test("a void superbill and a client without an email are skipped", () => {
  const decisions = shareFilter.decideShares(practice(), [
    request("superbill", "void"),
    request("superbill", "issued", { emailOnFile: false }),
  ]);
  assert.deepEqual(decisions, [
    { tag: "skip", val: "the document is void" },
    { tag: "skip", val: "no email address on file" },
  ]);
});

test("a malformed configuration is refused with a reason", () => {
  assert.throws(() => shareFilter.checkConfig("[60]"), /must be a JSON object/);
  assert.throws(() => shareFilter.checkConfig('{"delay_minutes": 20000}'), /0 to 10080/);
  assert.throws(() => shareFilter.checkConfig('{"delay": 5}'), /unknown field/);
});
