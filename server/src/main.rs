//! The `mentorbridge` command: serve the app, run the demo, and set schools up
//! by script. Each command is one function in [`cli`]; this file only starts
//! logging, parses the arguments and hands them over.

mod cli;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    cli::init_tracing();
    match cli::run(cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line, the causes after colons: what went wrong is the
            // person's to fix, not a trace of our stack. A cause that its
            // error's own words already say is not said twice.
            let mut line = e.to_string();
            for cause in e.chain().skip(1) {
                let cause = cause.to_string();
                if !line.contains(&cause) {
                    line.push_str(": ");
                    line.push_str(&cause);
                }
            }
            eprintln!("mentorbridge: {line}");
            std::process::ExitCode::FAILURE
        }
    }
}
