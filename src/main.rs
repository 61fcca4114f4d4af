use clap::Parser;

fn main() {
    // Run sealed (from /proc/self/fd/N), the process would show as `3` in ps and top.
    berth::engine::sealed::name_process();
    if let Some(code) = berth::engine::monitor::run_if_invoked() {
        std::process::exit(code);
    }
    berth::start_run_ahead();
    let cli = match berth::Cli::try_parse() {
        Ok(cli) => cli,
        Err(usage) => {
            // Docker's words and exit codes for a bad command line, not clap's.
            let argv: Vec<String> = std::env::args().skip(1).collect();
            std::process::exit(berth::cli_usage::report(&usage, &argv));
        }
    };
    let code = match berth::run_cli(cli) {
        Ok(code) => code,
        // The reader went away (`berth ps | head`): nothing to say, as a shell's SIGPIPE.
        Err(report) if is_broken_pipe(&report) => 141,
        Err(report) => {
            // One line: the outermost message, then each cause.
            let line: Vec<String> = report.chain().map(|e| e.to_string()).collect();
            eprintln!("Error: {}", line.join(": "));
            berth::ops::status::of_chain(report.chain()).exit_code
        }
    };
    std::process::exit(code);
}

fn is_broken_pipe(report: &color_eyre::Report) -> bool {
    report.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || e.downcast_ref::<berth::engine::Error>()
                .is_some_and(berth::engine::Error::is_broken_pipe)
    })
}
