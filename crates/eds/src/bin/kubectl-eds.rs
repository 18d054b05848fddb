//! `kubectl-eds`: the `kubectl eds` plugin. Parses the arguments, builds the client, runs the
//! verb and maps errors to the documented exit codes (0 ok, 1 rollout failed or templates differ, 2
//! error).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use eds::plugin::{self, Cli, Command, Ui};

#[tokio::main]
async fn main() -> ExitCode {
    // clap exits with 2 on usage errors and 0 for --help / --version.
    let cli = Cli::parse_or_exit(std::env::args_os());
    let mut stdout = std::io::stdout();
    if let Command::Completion(args) = &cli.command {
        // Needs no cluster; a closed pipe (`| head`) is not an error worth reporting.
        let _ = stdout.write_all(plugin::completion(args.shell).as_bytes());
        return ExitCode::SUCCESS;
    }
    if let Command::Plan(args) = &cli.command {
        let code = plugin::run_plan(&cli.client, args, &mut stdout).await;
        let _ = stdout.flush();
        return ExitCode::from(code);
    }
    let ui = Ui {
        color: stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        progress_bar: std::io::stderr().is_terminal(),
    };
    let result = match plugin::client::build_client(&cli.client).await {
        Ok(client) => plugin::run(&cli, &client, ui, &mut stdout).await,
        Err(e) => Err(e),
    };
    let _ = stdout.flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The diff is printed; exit 1 says it is not empty, as `kubectl diff`.
        Err(e @ plugin::Error::TemplatesDiffer(_)) => ExitCode::from(e.exit_code()),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
