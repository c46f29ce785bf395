//! Reading the practice's configuration for a plugin.
//!
//! The host hands every call the practice's configuration as a JSON document of at most 10 KB.
//! Parse it into your own `serde` type with [`parse`]; an unreadable document becomes an error
//! that names the problem, which the host shows to whoever assigned the plugin.

use serde::de::DeserializeOwned;

/// Parses the configuration into `T`. An empty document parses as `{}`, so a type whose fields
/// all have defaults accepts it.
pub fn parse<T: DeserializeOwned>(config: &str) -> Result<T, String> {
    let text = if config.trim().is_empty() { "{}" } else { config };
    serde_json::from_str(text).map_err(|error| format!("the plugin configuration is not valid: {error}"))
}

/// Accepts only an empty configuration: `""`, whitespace or `{}`.
pub fn expect_empty(config: &str) -> Result<(), String> {
    match serde_json::from_str::<serde_json::Value>(if config.trim().is_empty() { "{}" } else { config }) {
        Ok(serde_json::Value::Object(map)) if map.is_empty() => Ok(()),
        Ok(_) => Err("this policy takes no configuration: leave it empty or {}".to_string()),
        Err(error) => Err(format!("the plugin configuration is not valid JSON: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Weekly {
        #[serde(default)]
        weekday: Option<String>,
    }

    #[test]
    fn empty_configuration_reads_as_defaults() {
        assert_eq!(parse::<Weekly>("").unwrap(), Weekly { weekday: None });
        assert!(expect_empty("  ").is_ok());
        assert!(expect_empty("{}").is_ok());
    }

    #[test]
    fn malformed_configuration_says_what_is_wrong() {
        let error = parse::<Weekly>("{\"weekday\": 3}").unwrap_err();
        assert!(error.contains("not valid"), "{error}");
        assert!(expect_empty("{\"a\":1}").unwrap_err().contains("takes no configuration"));
        assert!(expect_empty("{").unwrap_err().contains("not valid JSON"));
    }
}
