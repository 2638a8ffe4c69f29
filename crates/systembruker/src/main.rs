//! The `systembruker` program: the server and the operator's command-line tools.

mod cli;
mod serve;
mod tokens;

use clap::Parser;

/// mimalloc instead of the system allocator: a request allocates and frees many small
/// buffers (JSON, base64, headers), and glibc's malloc took about 2.5 % of the token
/// endpoint's time (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
