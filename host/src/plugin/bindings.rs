//! Host bindings of the policy contract, generated from the released WIT.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../wit/since_v0.1.0",
    world: "all-policies",
    additional_derives: [PartialEq, Eq, Hash],
});
