//! autobill's end-to-end and conformance suites. The suites are this package's tests (see
//! `Cargo.toml`); the library itself is empty.
