//! The `mentorbridge` command: serve the app, run the demo, and set schools up
//! by script. Each command is one function in [`cli`]; this file only starts
//! logging, parses the arguments and hands them over.

mod cli;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cli::init_tracing();
    cli::run(cli::Cli::parse()).await
}
