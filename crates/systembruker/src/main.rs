//! The `systembruker` program: the server and the operator's command-line tools.

mod cli;
mod import;
mod selfservice;
mod serve;
mod tokens;

use clap::Parser;

/// mimalloc instead of the system allocator: a request allocates and frees many small
/// buffers (JSON, base64, headers), and glibc's malloc took about 3 % of the token
/// endpoint's time; with mimalloc the endpoint issues about two per cent more tokens
/// per second, and the PDP server's memory at full scale is the same (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", one_line(&err));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes joined by ": " on one line: an operator reading a service
/// log sees why the program stopped without a debug dump (a database's message may
/// carry line breaks of its own).
fn one_line(err: &anyhow::Error) -> String {
    let chain: Vec<String> = err.chain().map(ToString::to_string).collect();
    chain
        .join(": ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
