//! The `minuted` binary: parse the command line, set up logging, dispatch. Everything
//! else lives in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = minuted::cli::Cli::parse();
    minuted::logging::init(cli.log_format, cli.log_level.as_deref());
    // Each error with its causes, each said once: an error that names its cause in its
    // own words is not followed by that cause again.
    let report = |err: anyhow::Error| minuted::logging::error_chain(err.as_ref());
    if let Err(err) = cli.start_clock() {
        eprintln!("error: {}", report(err));
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(minuted::cli::dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", report(err));
            ExitCode::FAILURE
        }
    }
}
