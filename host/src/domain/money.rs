//! Money: integer minor units of an ISO 4217 currency, whose exponent says how many of its minor
//! units make one major unit (0 for JPY, 2 for USD, 3 for KWD). The codes and exponents come from
//! the `iso_currency` crate, so a new or retired currency is a dependency update, not our table.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A currency code that is not a real ISO 4217 currency with minor units.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "currency `{0}` is not an ISO 4217 currency code with minor units; use a three-letter code such as USD, EUR, GBP or JPY"
)]
pub struct UnknownCurrency(pub String);

/// An ISO 4217 currency a practice bills in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// US dollars, the default of a new practice.
    pub const USD: Currency = Currency(iso_currency::Currency::USD);

    /// The three-letter code, e.g. `USD`.
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// How many decimal places its minor units have: 0 for JPY, 2 for USD, 3 for KWD.
    pub fn exponent(self) -> u32 {
        self.0.exponent().map_or(0, u32::from)
    }

    /// `amount` minor units for people: `USD 1,234.50`, `JPY 1,000`, `KWD 1.500`.
    pub fn format(self, amount: i64) -> String {
        let exponent = self.exponent();
        let unit = 10u64.pow(exponent);
        let sign = if amount < 0 { "-" } else { "" };
        let amount = amount.unsigned_abs();
        let whole = group_thousands(amount / unit);
        match exponent {
            0 => format!("{} {sign}{whole}", self.code()),
            _ => {
                let fraction = amount % unit;
                format!("{} {sign}{whole}.{fraction:0width$}", self.code(), width = exponent as usize)
            }
        }
    }
}

/// `1234567` as `1,234,567`.
fn group_thousands(number: u64) -> String {
    let digits = number.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

impl FromStr for Currency {
    type Err = UnknownCurrency;
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        iso_currency::Currency::from_code(code)
            .filter(|currency| currency.exponent().is_some())
            .map(Currency)
            .ok_or_else(|| UnknownCurrency(code.to_string()))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        code.parse().map_err(serde::de::Error::custom)
    }
}

/// An amount in minor units of a currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Money {
    /// Minor units, e.g. cents.
    pub amount: i64,
    /// The currency.
    pub currency: Currency,
}

impl Money {
    /// `amount` minor units of `currency`.
    pub fn new(amount: i64, currency: Currency) -> Self {
        Money { amount, currency }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.currency.format(self.amount))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(amount: i64, code: &str) -> String {
        code.parse::<Currency>().map(|currency| Money::new(amount, currency).to_string()).unwrap_or_default()
    }

    #[test]
    fn amounts_are_shown_in_major_units_of_their_currency() {
        assert_eq!(money(12_345, "USD"), "USD 123.45");
        assert_eq!(money(168_000, "USD"), "USD 1,680.00");
        assert_eq!(money(-5, "EUR"), "EUR -0.05");
        assert_eq!(money(1_000, "JPY"), "JPY 1,000");
        assert_eq!(money(1_500, "KWD"), "KWD 1.500");
        assert_eq!(money(0, "USD"), "USD 0.00");
        assert_eq!(money(100_000_000, "JPY"), "JPY 100,000,000");
    }

    #[test]
    fn only_real_currencies_with_minor_units_are_accepted() {
        assert_eq!("JPY".parse::<Currency>().map(Currency::exponent), Ok(0));
        assert_eq!("KWD".parse::<Currency>().map(Currency::exponent), Ok(3));
        let error = "XYZ".parse::<Currency>().err().map(|error| error.to_string()).unwrap_or_default();
        assert!(error.contains("ISO 4217"), "{error}");
        assert!("usd".parse::<Currency>().is_err(), "codes are upper case");
        assert!("XAU".parse::<Currency>().is_err(), "gold has no minor units");
    }
}
