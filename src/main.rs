use clap::Parser;
use parlor::{
    config::{Cli, Command},
    server::Server,
    telemetry,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let server = Server::build(&cli.config).await?;
            server.run(parlor::server::shutdown_signal()).await
        }
        Command::Migrate => parlor::server::migrate_only(&cli.config).await,
        Command::Cleanup => parlor::server::cleanup_once(&cli.config).await,
    }
}
