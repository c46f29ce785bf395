//! `autobill config check`: every problem with the configuration `serve` would use, at once.

use super::{ConfigFile, load_config, output};
use autobill::config::Use;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Read the file and the AUTOBILL_* variables and list every problem (exit 1 if any).
    Check {
        #[command(flatten)]
        config: ConfigFile,
    },
}

pub fn run(command: ConfigCommand) -> anyhow::Result<()> {
    let ConfigCommand::Check { config } = command;
    match load_config(config.path.as_deref(), &Default::default(), Use::Serve) {
        Ok(config) => {
            let payments = match &config.stripe {
                Some(stripe) => format!("Stripe ({})", stripe.api_base.as_deref().unwrap_or("api.stripe.com")),
                None => "the sandbox gateway".into(),
            };
            let emails = match &config.smtp {
                Some(smtp) => format!("SMTP {}:{}", smtp.host, smtp.port),
                None => format!("the outbox folder {}", config.outbox_dir.display()),
            };
            output::line(format_args!(
                "the configuration is good: listening on {}, database {}, ticking every {} s, payments to {payments}, emails to {emails}",
                config.server.listen,
                config.database_url.split('@').next_back().unwrap_or_default(),
                config.scheduler.tick_interval_seconds
            ))
        }
        Err(error) => {
            output::note(error);
            std::process::exit(1);
        }
    }
}
