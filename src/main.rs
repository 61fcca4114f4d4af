use clap::Parser;

fn main() {
    let cli = berth::cli::Cli::parse();
    let code = match berth::cli::run(cli) {
        Ok(code) => code,
        Err(report) => {
            // One line: the outermost message, then each cause.
            let line: Vec<String> = report.chain().map(|e| e.to_string()).collect();
            eprintln!("Error: {}", line.join(": "));
            1
        }
    };
    std::process::exit(code);
}
