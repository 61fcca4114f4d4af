use clap::error::ErrorKind;
use clap::Parser;

fn main() {
    // Run from a memfd, the process would show as `3` in ps and top.
    berth::engine::container::runtime::sealed::name_process();
    let cli = match berth::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(usage) => {
            let _ = usage.print();
            // Help asked for is not an error; a bad command line is berth's own error,
            // which Docker reports with 125.
            let code = match usage.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => 125,
            };
            std::process::exit(code);
        }
    };
    let code = match berth::cli::run(cli) {
        Ok(code) => code,
        // The reader went away (`berth ps | head`): nothing to say, as a shell's SIGPIPE.
        Err(report) if is_broken_pipe(&report) => 141,
        Err(report) => {
            // One line: the outermost message, then each cause.
            let line: Vec<String> = report.chain().map(|e| e.to_string()).collect();
            eprintln!("Error: {}", line.join(": "));
            1
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
