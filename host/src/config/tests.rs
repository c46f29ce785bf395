//! The configuration's behaviour: what is read from where, what is refused and how it is said.

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_table(&text.parse::<toml::Table>().expect("valid TOML"), Use::Serve)
}

#[test]
fn every_problem_is_reported_at_once() {
    let error = parse(
        "[server]\nlisten = \"nowhere\"\noperator_token = \"short\"\nmax_body_bytes = -1\n[database]\nurl = \"mysql://x\"\n[smpt]\nhost = \"x\"\n[scheduler]\ntick_interval_seconds = \"often\"\nhots_id = \"a\"\n",
    )
    .expect_err("a broken configuration");
    let text = error.to_string();
    for expected in [
        "unknown section [smpt]",
        "unknown key scheduler.hots_id",
        "server.listen is `nowhere`",
        "operator_token is 5 characters",
        "max_body_bytes must be a whole number",
        "mysql://x` is not supported",
        "tick_interval_seconds must be a whole number",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    assert_eq!(error.0.len(), 7, "{text}");
}

#[test]
fn environment_and_flags_override_the_file() {
    let dir = tempfile::tempdir().expect("a folder");
    let file = dir.path().join("autobill.toml");
    std::fs::write(&file, "[database]\nurl = \"sqlite://file.db\"\n[server]\nlisten = \"127.0.0.1:1\"\n")
        .expect("write");
    let env = |name: &str| match name {
        "AUTOBILL_OPERATOR_TOKEN" => Some("x".repeat(32)),
        "AUTOBILL_DATABASE_URL" => Some("sqlite://env.db".into()),
        "AUTOBILL_TICK_INTERVAL_SECONDS" => Some("5".into()),
        _ => None,
    };
    let overrides = Overrides { listen: Some("127.0.0.1:9".into()), database_url: None };
    let config = Config::load(Some(&file), env, &overrides, Use::Serve).expect("a good configuration");
    assert_eq!(config.database_url, "sqlite://env.db");
    assert_eq!(config.server.listen.port(), 9);
    assert_eq!(config.scheduler.tick_interval_seconds, 5);
    assert!(!config.testing.simulated_clock, "the simulated clock is off by default");
}

const GOOD: &str =
    "[server]\noperator_token = \"0123456789abcdef0123456789abcdef\"\n[database]\nurl = \"sqlite://a.db\"\n";

#[test]
fn run_workers_default_to_the_engines_and_are_bounded() {
    assert_eq!(parse(GOOD).expect("a good configuration").scheduler.run_workers, None);
    let three = parse(&format!("{GOOD}[scheduler]\nrun_workers = 3\n")).expect("three workers");
    assert_eq!(three.scheduler.run_workers, Some(3));
    for (value, expected) in [("0", "run_workers must be a whole number above 0"), ("9", "use at most 4")] {
        let error = parse(&format!("{GOOD}[scheduler]\nrun_workers = {value}\n")).expect_err("out of bounds");
        assert!(error.to_string().contains(expected), "{error}");
    }
    let env = |name: &str| match name {
        "AUTOBILL_OPERATOR_TOKEN" => Some("x".repeat(32)),
        "AUTOBILL_DATABASE_URL" => Some("postgres://postgres@127.0.0.1:5432/test".into()),
        "AUTOBILL_RUN_WORKERS" => Some("2".into()),
        _ => None,
    };
    let overrides = Overrides { listen: None, database_url: None };
    let config = Config::load(None, env, &overrides, Use::Serve).expect("a good configuration");
    assert_eq!(config.scheduler.run_workers, Some(2));
}

#[test]
fn stripe_and_smtp_are_optional_and_read_from_the_file() {
    let config = parse(GOOD).expect("a good configuration");
    assert_eq!((config.stripe, config.smtp), (None, None), "sandbox gateway and file outbox by default");
    let config = parse(&format!(
        "{GOOD}[stripe]\nsecret_key = \"sk_test_abc\"\napi_base = \"http://127.0.0.1:8420\"\n\
         [smtp]\nhost = \"smtp.example.com\"\nusername = \"billing\"\npassword = \"hunter2-secret\"\nfrom = \"billing@example.com\"\n"
    ))
    .expect("a good configuration");
    let stripe = config.stripe.clone().expect("Stripe");
    assert_eq!(stripe.api_base.as_deref(), Some("http://127.0.0.1:8420"));
    let smtp = config.smtp.clone().expect("SMTP");
    assert_eq!((smtp.port, smtp.security), (587, SmtpSecurity::StartTls), "STARTTLS on 587 by default");
    assert_eq!(smtp.from.as_deref(), Some("billing@example.com"));
    let shown = format!("{config:?}");
    for secret in ["sk_test_abc", "hunter2-secret", "0123456789abcdef"] {
        assert!(!shown.contains(secret), "a secret in the Debug output: {shown}");
    }
}

#[test]
fn stripe_and_smtp_come_from_the_environment_too() {
    let env = |name: &str| match name {
        "AUTOBILL_OPERATOR_TOKEN" => Some("x".repeat(32)),
        "AUTOBILL_DATABASE_URL" => Some("sqlite://env.db".into()),
        "AUTOBILL_STRIPE_SECRET_KEY" => Some("rk_live_restricted".into()),
        "AUTOBILL_SMTP_HOST" => Some("127.0.0.1".into()),
        "AUTOBILL_SMTP_PORT" => Some("2525".into()),
        "AUTOBILL_SMTP_SECURITY" => Some("plain".into()),
        "AUTOBILL_SMTP_USERNAME" => Some("local".into()),
        "AUTOBILL_SMTP_PASSWORD" => Some("pw".into()),
        _ => None,
    };
    let config = Config::load(None, env, &Overrides::default(), Use::Serve).expect("a good configuration");
    assert_eq!(config.stripe.map(|stripe| stripe.secret_key), Some(SecretKey::new("rk_live_restricted")));
    let smtp = config.smtp.expect("SMTP");
    assert_eq!((smtp.host.as_str(), smtp.port, smtp.security), ("127.0.0.1", 2525, SmtpSecurity::Plain));
    assert_eq!((smtp.username.as_deref(), smtp.password.as_deref()), (Some("local"), Some("pw")));
}

#[test]
fn every_stripe_and_smtp_problem_is_reported_with_the_others_and_no_secret() {
    let error = parse(
        "[server]\noperator_token = \"short\"\n[database]\nurl = \"sqlite://a.db\"\n\
         [stripe]\nsecret_key = \"pk_live_publishable\"\napi_base = \"localhost:8420\"\napi_key = \"x\"\n\
         [smtp]\nport = 70000\nsecurity = \"ssl\"\nfrom = \"billing\"\npassword = \"hunter2-secret\"\n",
    )
    .expect_err("a broken configuration");
    let text = error.to_string();
    for expected in [
        "operator_token is 5 characters",
        "unknown key stripe.api_key",
        "stripe.secret_key is not a Stripe secret key; it starts with sk_",
        "stripe.api_base `localhost:8420` is not an http(s) URL",
        "smtp.host is missing",
        "smtp.port must be a port from 1 to 65535",
        "unknown SMTP security `ssl`: use starttls or plain",
        "smtp.from `billing` is not an email address",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    assert_eq!(error.0.len(), 8, "{text}");
    assert!(!text.contains("pk_live_publishable") && !text.contains("hunter2-secret"), "{text}");
}

#[test]
fn smtp_settings_that_cannot_work_are_reported_before_serving() {
    let error = parse(&format!(
        "{GOOD}[smtp]\nhost = \"smtp.example.com\"\nsecurity = \"plain\"\nusername = \"u\"\npassword = \"hunter2-secret\"\n[stripe]\n"
    ))
    .expect_err("credentials in clear across the network, and Stripe without a key");
    let text = error.to_string();
    assert!(text.contains("credentials would cross the network unencrypted"), "{text}");
    assert!(text.contains("stripe.secret_key is missing"), "{text}");
    assert!(!text.contains("hunter2-secret"), "{text}");
    let error = parse(&format!("{GOOD}[smtp]\nhost = \"smtp.example.com\"\nusername = \"u\"\n"))
        .expect_err("a user without a password");
    assert!(error.to_string().contains("username was given without a password"), "{error}");
}

/// Environment variables from a list of pairs.
fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| pairs.iter().find(|(var, _)| *var == name).map(|(_, value)| value.to_string())
}

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const OLD_TOKEN: &str = "fedcba9876543210fedcba9876543210";

#[test]
fn batch_commands_need_no_operator_token_but_serving_does() {
    let env = vars(&[("AUTOBILL_DATABASE_URL", "sqlite://a.db")]);
    let config = Config::load(None, &env, &Overrides::default(), Use::Batch).expect("enough for tick");
    assert!(config.server.operator_tokens.is_empty(), "no operator without a token");
    assert_eq!(config.server.listen, SocketAddr::from(([127, 0, 0, 1], 8080)));
    let error = Config::load(None, &env, &Overrides::default(), Use::Serve).expect_err("serving needs a token");
    assert_eq!(
        error.0,
        vec![format!(
            "server.operator_token is missing; set at least {MIN_TOKEN_CHARS} random characters (e.g. `openssl rand -hex 32`) in the file or AUTOBILL_OPERATOR_TOKEN"
        )]
    );
    let error = Config::load(None, |_| None, &Overrides::default(), Use::Batch).expect_err("no database");
    assert_eq!(error.0.len(), 1, "{error}");
    assert!(error.0[0].starts_with("database.url is missing"), "{error}");
}

#[test]
fn batch_commands_still_check_the_server_values_given() {
    let table = "[server]\nlisten = \"nowhere\"\noperator_token = \"short\"\nmax_connections = 0\n\
                 [database]\nurl = \"sqlite://a.db\"\n"
        .parse::<toml::Table>()
        .expect("TOML");
    let error = Config::from_table(&table, Use::Batch).expect_err("wrong values");
    let text = error.to_string();
    for expected in [
        "server.listen is `nowhere`",
        "operator_token is 5 characters",
        "server.max_connections must be a whole number above 0 and at most 65536, not `0`",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    assert_eq!(error.0.len(), 3, "{text}");
}

#[test]
fn operator_token_may_be_a_list_during_a_rotation() {
    let config = parse(&format!(
        "[server]\noperator_token = [\"{TOKEN}\", \"{OLD_TOKEN}\"]\n[database]\nurl = \"sqlite://a.db\"\n"
    ))
    .expect("two tokens");
    assert_eq!(config.server.operator_tokens, vec![Secret::new(TOKEN), Secret::new(OLD_TOKEN)]);
    let shown = format!("{config:?}");
    assert!(!shown.contains(TOKEN) && !shown.contains(OLD_TOKEN), "a token in the Debug output: {shown}");

    let env = |name: &str| match name {
        "AUTOBILL_OPERATOR_TOKEN" => Some(format!(" {TOKEN} ,{OLD_TOKEN},")),
        "AUTOBILL_DATABASE_URL" => Some("sqlite://a.db".into()),
        _ => None,
    };
    let config = Config::load(None, env, &Overrides::default(), Use::Serve).expect("a comma-separated list");
    assert_eq!(config.server.operator_tokens, vec![Secret::new(TOKEN), Secret::new(OLD_TOKEN)]);

    let error = parse(&format!(
        "[server]\noperator_token = [\"{TOKEN}\", \"short-old-token\"]\n[database]\nurl = \"sqlite://a.db\"\n"
    ))
    .expect_err("a short token in the list");
    let text = error.to_string();
    assert!(text.contains("server.operator_token (token 2 of 2) is 15 characters; set at least 32"), "{text}");
    assert!(!text.contains("short-old-token") && !text.contains(TOKEN), "{text}");
    let error =
        parse("[server]\noperator_token = \"x\"\n[database]\nurl = \"sqlite://a.db\"\n").expect_err("one character");
    assert!(error.0[0].starts_with("server.operator_token is 1 character; set at least 32"), "{error}");

    let error =
        parse("[server]\noperator_token = [\"a\", 5]\n[database]\nurl = \"sqlite://a.db\"\n").expect_err("not strings");
    assert_eq!(
        error.0,
        vec!["server.operator_token must be a string, or a list of strings (the value is not shown: it is a secret)"]
    );
}

#[test]
fn new_keys_have_their_documented_defaults() {
    let config = parse(GOOD).expect("a good configuration");
    let server = &config.server;
    assert_eq!(
        (server.request_timeout, server.header_read_timeout, server.body_read_timeout, server.shutdown_timeout),
        (Duration::from_secs(30), Duration::from_secs(10), Duration::from_secs(30), Duration::from_secs(30))
    );
    assert_eq!(server.max_connections, 1024);
    assert_eq!(config.scheduler.charges_in_flight, 32);
    assert_eq!(config.plugins.call_timeout, Duration::from_millis(2000));
    assert!(!config.console.secure_cookies, "cookies work over plain HTTP by default");

    for (key, expected) in [("sk_test_abc", 25), ("rk_test_abc", 25), ("sk_live_abc", 90), ("rk_live_abc", 90)] {
        let config = parse(&format!("{GOOD}[stripe]\nsecret_key = \"{key}\"\n")).expect("Stripe");
        let stripe = config.stripe.expect("Stripe");
        assert_eq!(stripe.max_requests_per_second, expected, "for {key}");
        assert_eq!((stripe.webhook_secret, stripe.webhook_tolerance), (None, Duration::from_secs(300)));
    }
    let config = parse(&format!("{GOOD}[smtp]\nhost = \"127.0.0.1\"\nsecurity = \"plain\"\n")).expect("SMTP");
    assert_eq!(config.smtp.expect("SMTP").connections, DEFAULT_SMTP_CONNECTIONS);
}

#[test]
fn new_keys_are_read_from_the_file() {
    let config = parse(&format!(
        "[server]\noperator_token = \"{TOKEN}\"\nrequest_timeout_seconds = 60\nheader_read_timeout_seconds = 5\n\
         body_read_timeout_seconds = 20\nshutdown_timeout_seconds = 15\nmax_connections = 64\n\
         [database]\nurl = \"sqlite://a.db\"\n[scheduler]\ncharges_in_flight = 256\n[plugins]\ncall_timeout_ms = 100\n\
         [stripe]\nsecret_key = \"sk_test_abc\"\nmax_requests_per_second = 1000\nwebhook_secret = \"whsec_abc\"\n\
         webhook_tolerance_seconds = 60\n\
         [smtp]\nhost = \"127.0.0.1\"\nsecurity = \"plain\"\nconnections = 64\n[console]\nsecure_cookies = true\n"
    ))
    .expect("every value at a bound or within");
    let server = &config.server;
    assert_eq!(
        (server.request_timeout, server.header_read_timeout, server.body_read_timeout, server.shutdown_timeout),
        (Duration::from_secs(60), Duration::from_secs(5), Duration::from_secs(20), Duration::from_secs(15))
    );
    assert_eq!(server.max_connections, 64);
    assert_eq!(config.scheduler.charges_in_flight, 256);
    assert_eq!(config.plugins.call_timeout, Duration::from_millis(100));
    let stripe = config.stripe.clone().expect("Stripe");
    assert_eq!(stripe.max_requests_per_second, 1000, "an explicit rate wins over the test-mode default");
    assert_eq!(stripe.webhook_secret, Some(Secret::new("whsec_abc")));
    assert_eq!(stripe.webhook_tolerance, Duration::from_secs(60));
    assert_eq!(config.smtp.clone().expect("SMTP").connections, 64);
    assert!(config.console.secure_cookies);
    assert!(!format!("{config:?}").contains("whsec_abc"), "the webhook secret in the Debug output");
}

#[test]
fn new_keys_come_from_the_environment() {
    let env = vars(&[
        ("AUTOBILL_OPERATOR_TOKEN", TOKEN),
        ("AUTOBILL_DATABASE_URL", "sqlite://a.db"),
        ("AUTOBILL_REQUEST_TIMEOUT_SECONDS", "61"),
        ("AUTOBILL_HEADER_READ_TIMEOUT_SECONDS", "6"),
        ("AUTOBILL_BODY_READ_TIMEOUT_SECONDS", "21"),
        ("AUTOBILL_SHUTDOWN_TIMEOUT_SECONDS", "16"),
        ("AUTOBILL_MAX_CONNECTIONS", "65"),
        ("AUTOBILL_CHARGES_IN_FLIGHT", "7"),
        ("AUTOBILL_PLUGINS_CALL_TIMEOUT_MS", "250"),
        ("AUTOBILL_PLUGINS_FUEL", "1000"),
        ("AUTOBILL_STRIPE_SECRET_KEY", "sk_live_abc"),
        ("AUTOBILL_STRIPE_MAX_REQUESTS_PER_SECOND", "50"),
        ("AUTOBILL_STRIPE_WEBHOOK_SECRET", "whsec_from_env"),
        ("AUTOBILL_STRIPE_WEBHOOK_TOLERANCE_SECONDS", "120"),
        ("AUTOBILL_SMTP_HOST", "127.0.0.1"),
        ("AUTOBILL_SMTP_SECURITY", "plain"),
        ("AUTOBILL_SMTP_CONNECTIONS", "3"),
        ("AUTOBILL_CONSOLE_SECURE_COOKIES", "true"),
    ]);
    let config = Config::load(None, env, &Overrides::default(), Use::Serve).expect("a good configuration");
    let server = &config.server;
    assert_eq!(
        (server.request_timeout, server.header_read_timeout, server.body_read_timeout, server.shutdown_timeout),
        (Duration::from_secs(61), Duration::from_secs(6), Duration::from_secs(21), Duration::from_secs(16))
    );
    assert_eq!(server.max_connections, 65);
    assert_eq!(config.scheduler.charges_in_flight, 7);
    assert_eq!((config.plugins.call_timeout, config.plugins.fuel), (Duration::from_millis(250), 1000));
    let stripe = config.stripe.expect("Stripe");
    assert_eq!(stripe.max_requests_per_second, 50);
    assert_eq!(stripe.webhook_secret, Some(Secret::new("whsec_from_env")));
    assert_eq!(stripe.webhook_tolerance, Duration::from_secs(120));
    assert_eq!(config.smtp.expect("SMTP").connections, 3);
    assert!(config.console.secure_cookies);

    let env = vars(&[
        ("AUTOBILL_OPERATOR_TOKEN", TOKEN),
        ("AUTOBILL_DATABASE_URL", "sqlite://a.db"),
        ("AUTOBILL_CONSOLE_SECURE_COOKIES", "yes"),
        ("AUTOBILL_CHARGES_IN_FLIGHT", "many"),
    ]);
    let error = Config::load(None, env, &Overrides::default(), Use::Serve).expect_err("wrong values");
    assert_eq!(
        error.0,
        vec![
            "scheduler.charges_in_flight must be a whole number above 0 and at most 256, not `\"many\"`",
            "console.secure_cookies must be true or false, not `\"yes\"`",
        ]
    );
}

#[test]
fn every_bound_is_checked_and_named_with_every_other_problem() {
    let error = parse(&format!(
        "[server]\noperator_token = \"{TOKEN}\"\nrequest_timeout_seconds = 3601\nheader_read_timeout_seconds = 0\n\
         body_read_timeout_seconds = 1.5\nshutdown_timeout_seconds = 7200\nmax_connections = 65537\n\
         [database]\nurl = \"sqlite://a.db\"\n[scheduler]\ncharges_in_flight = 257\n[plugins]\ncall_timeout_ms = 99\n\
         [stripe]\nsecret_key = \"sk_test_abc\"\nmax_requests_per_second = 1001\nwebhook_tolerance_seconds = 3601\n\
         [smtp]\nhost = \"127.0.0.1\"\nsecurity = \"plain\"\nconnections = 65\n[console]\nsecure_cookies = \"yes\"\n"
    ))
    .expect_err("every value out of bounds");
    let text = error.to_string();
    for expected in [
        "server.request_timeout_seconds is 3601; use at most 3600",
        "server.header_read_timeout_seconds must be a whole number above 0 and at most 3600, not `0`",
        "server.body_read_timeout_seconds must be a whole number above 0 and at most 3600, not `1.5`",
        "server.shutdown_timeout_seconds is 7200; use at most 3600",
        "server.max_connections is 65537; use at most 65536",
        "scheduler.charges_in_flight is 257; use at most 256",
        "plugins.call_timeout_ms is 99; use 100 to 60000",
        "stripe.max_requests_per_second is 1001; use at most 1000",
        "stripe.webhook_tolerance_seconds is 3601; use at most 3600",
        "smtp.connections is 65; use at most 64",
        "console.secure_cookies must be true or false, not `\"yes\"`",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    assert_eq!(error.0.len(), 11, "{text}");
    let error = parse(&format!("{GOOD}[plugins]\ncall_timeout_ms = 0\n")).expect_err("zero");
    assert_eq!(error.0, vec!["plugins.call_timeout_ms must be a whole number from 100 to 60000, not `0`"]);
}

#[test]
fn secrets_of_the_wrong_shape_are_reported_without_their_value() {
    let error = parse(&format!(
        "{GOOD}[stripe]\nsecret_key = \"sk_test_abc\"\nwebhook_secret = \"wh_not-a-signing-secret\"\n\
         [smtp]\nhost = \"smtp.example.com\"\nusername = \"u\"\npassword = 12345678\n"
    ))
    .expect_err("a wrong webhook secret and a password that is no string");
    let text = error.to_string();
    assert!(text.contains("stripe.webhook_secret is not a webhook signing secret; it starts with whsec_"), "{text}");
    assert!(text.contains("smtp.password must be a string (the value is not shown: it is a secret)"), "{text}");
    assert!(!text.contains("not-a-signing-secret") && !text.contains("12345678"), "{text}");
    assert_eq!(error.0.len(), 2, "{text}");
}

#[test]
fn every_unknown_section_and_key_is_reported_not_only_the_first() {
    let error = parse(&format!(
        "{GOOD}[scheduler]\ntick_interval = 5\nrun_worker = 2\ncharges_in_flight = 4\nhost = \"a\"\n\
         [consle]\nsecure_cookies = true\n[plugin]\nfuel = 1\n[console]\nsecure_cookie = true\n"
    ))
    .expect_err("typos");
    let text = error.to_string();
    for expected in [
        "unknown key scheduler.tick_interval; [scheduler] takes tick_interval_seconds, host_id, run_workers, charges_in_flight",
        "unknown key scheduler.run_worker;",
        "unknown key scheduler.host;",
        "unknown key console.secure_cookie; [console] takes secure_cookies",
        "unknown section [consle]; the sections are server, database, scheduler, outbox, plugins, stripe, smtp, console, testing",
        "unknown section [plugin];",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    assert_eq!(error.0.len(), 6, "{text}");
    let error = parse(&format!("outbox = \"mail\"\n{GOOD}")).expect_err("a value where a section goes");
    assert_eq!(error.0, vec!["outbox must be a section ([outbox]), not a value"]);
}

#[test]
fn every_variable_sets_a_known_key() {
    for (var, section, key, _) in raw::ENV_VARS {
        let mut table = toml::Table::new();
        raw::merge(&mut table, |name| (name == *var).then(|| "1".to_string()), &Overrides::default());
        let mut problems = vec![];
        raw::Raw::from_table(table, &mut problems);
        assert_eq!(problems, Vec::<String>::new(), "{var} sets {section}.{key}");
        assert!(var.starts_with("AUTOBILL_"), "{var}");
    }
}

/// Every section and its keys.
fn every_key() -> Vec<(&'static str, &'static [&'static str])> {
    use serde_aux::serde_introspection::serde_introspect;
    vec![
        ("server", serde_introspect::<raw::ServerSection>()),
        ("database", serde_introspect::<raw::DatabaseSection>()),
        ("scheduler", serde_introspect::<raw::SchedulerSection>()),
        ("outbox", serde_introspect::<raw::OutboxSection>()),
        ("plugins", serde_introspect::<raw::PluginsSection>()),
        ("stripe", serde_introspect::<raw::StripeSection>()),
        ("smtp", serde_introspect::<raw::SmtpSection>()),
        ("console", serde_introspect::<raw::ConsoleSection>()),
        ("testing", serde_introspect::<raw::TestingSection>()),
    ]
}

/// The TOML blocks of `text`, each line with `prefix` taken off.
fn toml_blocks(text: &str, prefix: &str) -> String {
    let mut blocks = String::new();
    let mut inside = false;
    for line in text.lines() {
        let Some(line) = line.strip_prefix(prefix) else { continue };
        match line.trim_end() {
            "```toml" => inside = true,
            "```" => inside = false,
            line if inside => {
                blocks.push_str(line);
                blocks.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

#[test]
fn the_docs_show_every_key_and_variable() {
    let readme = include_str!("../../../README.md");
    let start = readme.find("## Running it for real").expect("the README's configuration section");
    let end = readme[start + 2..].find("\n## ").map_or(readme.len(), |end| start + 2 + end);
    let readme = &readme[start..end];
    let module_docs: String =
        include_str!("mod.rs").lines().filter_map(|line| line.strip_prefix("//!")).collect::<Vec<_>>().join("\n");
    for (name, text, blocks) in [
        ("README.md", readme.to_string(), toml_blocks(readme, "")),
        ("config's module docs", module_docs.clone(), toml_blocks(&module_docs, " ")),
    ] {
        let mut problems = vec![];
        raw::Raw::from_table(blocks.parse::<toml::Table>().expect("the example is TOML"), &mut problems);
        assert_eq!(problems, Vec::<String>::new(), "{name}'s example has keys the configuration does not know");
        let keys: Vec<&str> = blocks
            .lines()
            .filter_map(|line| line.trim_start_matches(['#', ' ']).split_once(" ="))
            .map(|(key, _)| key)
            .collect();
        for (section, section_keys) in every_key() {
            assert!(blocks.contains(&format!("[{section}]")), "{name} does not show [{section}]");
            for key in section_keys {
                assert!(keys.contains(key), "{name} does not show {section}.{key}");
            }
        }
        for (var, ..) in raw::ENV_VARS {
            assert!(text.contains(var), "{name} does not name {var}");
        }
    }
}

#[test]
fn a_required_value_of_the_wrong_type_is_reported_once_not_also_as_missing() {
    let error = parse(
        "[server]\noperator_token = 12345\n[database]\nurl = \"sqlite://a.db\"\n\
         [stripe]\nsecret_key = 42\n[smtp]\nhost = [\"a\", \"b\"]\n",
    )
    .expect_err("wrong types");
    assert_eq!(
        error.0,
        vec![
            "server.operator_token must be a string, or a list of strings (the value is not shown: it is a secret)",
            "stripe.secret_key must be a string (the value is not shown: it is a secret)",
            "smtp.host must be a string, not `[\"a\", \"b\"]`",
        ]
    );
}
