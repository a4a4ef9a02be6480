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
        Command::Precompress => {
            let pkg = cli.config.site_root.join("pkg");
            for file in parlor::assets::precompress(&pkg)? {
                println!(
                    "{}: {} bytes, brotli {}, gzip {}",
                    file.path.display(),
                    file.raw,
                    file.brotli,
                    file.gzip
                );
            }
            Ok(())
        }
        Command::Backup { path } => {
            let done = parlor::backup::backup(&cli.config, &path).await?;
            match (&done.database, &done.pg_dump) {
                (Some(db), _) => println!("database copied to {}", db.display()),
                (None, Some(line)) => println!("copy the database with:\n  {line}"),
                (None, None) => {}
            }
            println!(
                "{} files copied to {}",
                done.files,
                path.join("uploads").display()
            );
            Ok(())
        }
    }
}
