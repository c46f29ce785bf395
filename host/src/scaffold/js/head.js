// `{{name}}`, an autobill policy plugin for the {{slot_list}} slot{{slots_plural}}, in JavaScript.
//
// Each slot starts as autobill's documented behaviour: change it into your policy, name the
// built-in conformance cases that no longer hold in conformance/overrides.txt, and add cases of
// yours under conformance/. README.md has the build, test, simulate and install commands.
//
// jco maps the contract's types (wit/) to JavaScript: records are objects with camelCase fields,
// enums are their names as strings ("monthly", "void"), u64 and s64 values are BigInts, a variant
// is {tag, val}, an option is the value or undefined, and a function returning result<_, string>
// answers its value or throws its error string.

/** Accepts only an empty configuration ("", whitespace or {}); throws the reason otherwise. */
function expectEmpty(config) {
  const text = config.trim();
  if (text === "" || text === "{}") return;
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw `the plugin configuration is not valid JSON: ${error.message}`;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value) || Object.keys(value).length > 0) {
    throw "this policy takes no configuration: leave it empty or {}";
  }
}
