// A share filter that emails superbills only, written in JavaScript: the same policy as
// plugins/examples/share-superbills-only, built into a WebAssembly component with jco (see
// README.md). Bills are never emailed automatically; each is skipped with a reason staff see.
//
// Superbills are emailed under the same client checks as autobill's default policy, after the
// practice's share delay unless the configuration sets its own: {"delay_minutes": 1440}, 0 to
// 10,080 (one week). An empty configuration ("" or {}) uses the practice's delay.
//
// jco maps the contract's types to JavaScript: records are objects with camelCase fields, enums
// are their names as strings ("superbill", "void"), a variant is {tag, val}, and a function that
// returns result<_, string> answers its ok value or throws its error string.

const MAX_DELAY_MINUTES = 10080;

const BILL =
  "bills are not emailed automatically at this practice (superbills only): send it by hand if needed";
const SHARING_OFF = "automatic sharing is off for this client";
const NO_EMAIL = "no email address on file";
const EMAIL_OFF = "email is turned off in the client's communication preferences";
const VOID = "the document is void";

/** Reads the configuration; throws the reason it is refused. */
function readConfig(config) {
  const text = config.trim();
  if (text === "") return {};
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw `the plugin configuration is not valid JSON: ${error.message}`;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw 'the plugin configuration must be a JSON object, e.g. {"delay_minutes": 60}';
  }
  for (const key of Object.keys(value)) {
    if (key !== "delay_minutes") throw `unknown field \`${key}\`: the only field is delay_minutes`;
  }
  const minutes = value.delay_minutes;
  if (minutes !== undefined && !(Number.isInteger(minutes) && minutes >= 0 && minutes <= MAX_DELAY_MINUTES)) {
    throw `delay_minutes is ${JSON.stringify(minutes)}; it must be 0 to ${MAX_DELAY_MINUTES} (one week)`;
  }
  return value;
}

/** The decision for one request. */
export function decide(request, delay) {
  const { document, client } = request;
  let reason = null;
  if (document.kind === "bill") reason = BILL;
  else if (document.status === "void") reason = VOID;
  else if (!client.autoShare) reason = SHARING_OFF;
  else if (!client.emailOnFile) reason = NO_EMAIL;
  else if (!client.emailAllowed) reason = EMAIL_OFF;
  return reason === null ? { tag: "send", val: delay } : { tag: "skip", val: reason };
}

export const shareFilter = {
  checkConfig(config) {
    readConfig(config);
  },

  decideShares(practice, requests) {
    const config = readConfig(practice.config);
    const delay = config.delay_minutes ?? practice.automation.shareDelayMinutes;
    if (delay > MAX_DELAY_MINUTES) throw "the practice's share delay is too large";
    return requests.map((request) => decide(request, delay));
  },
};
