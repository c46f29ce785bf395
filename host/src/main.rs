//! The `autobill` command: a thin dispatcher over [`cli`], one file per command.

mod cli;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match cli::run().await {
        Err(error) if !error.is::<cli::Closed>() => {
            cli::report_error(&error);
            std::process::exit(1)
        }
        _ => {}
    }
}
