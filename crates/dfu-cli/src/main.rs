//! `dfu`: flash firmware into microcontrollers over USB DFU and ST's DfuSe extension.
#![forbid(unsafe_code)]

mod args;
mod args_tools;
mod cmd_device;
mod cmd_flash;
mod cmd_image;
mod cmd_info;
mod cmd_inspect;
mod cmd_many;
mod cmd_profile;
mod cmd_protect;
mod cmd_read;
mod cmd_schema;
mod cmd_suffix;
mod cmd_watch;
mod compat;
mod config;
mod doctor;
mod doctor_desk;
mod doctor_fix;
mod exit;
mod generate;
mod help;
mod interrupt;
mod out;
mod output;
mod picture;
mod render;
mod render_many;
mod select;
mod serial;
mod sim_serve;
mod strip;

use args::{Cli, Command};
use clap::Parser;
use exit::Failure;

fn main() {
    // Called as dfu-util, dfu-suffix or dfu-prefix (or `dfu util ...`): their command line.
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if let Some(code) = compat::dispatch(&argv) {
        std::process::exit(code);
    }
    // Defaults from DFU_* variables and dfu.toml join the command line before clap reads it.
    let asked_json = argv.iter().any(|a| a == "--json");
    let argv = match config::apply(argv) {
        Ok(argv) => argv,
        Err(f) => {
            render::failure(&f, asked_json);
            std::process::exit(f.code());
        }
    };
    let cli = parse_command_line(argv, asked_json);
    let json = cli.command.wants_json();
    let code = match run(cli) {
        Ok(()) => exit::OK,
        Err(f) => {
            render::failure(&f, json);
            f.code()
        }
    };
    std::process::exit(code);
}

/// clap's parse, with where a refused value came from and the stable code after a usage
/// error (help and version print as usual). With `--json` the usage error is the JSON error
/// object on standard output, as every other failure is.
fn parse_command_line(argv: Vec<String>, json: bool) -> Cli {
    Cli::try_parse_from(argv).unwrap_or_else(|e| {
        if json && e.use_stderr() {
            config::explain(&e);
            // clap's text: the error (one paragraph), then tips and the usage line.
            let text = e.render().to_string();
            let mut paragraphs = text
                .split("\n\n")
                .map(|p| p.lines().map(str::trim).collect::<Vec<_>>().join(" "))
                .filter(|p| !p.is_empty() && !p.starts_with("For more information"));
            let first = paragraphs.next().unwrap_or_default();
            let message = first.strip_prefix("error: ").unwrap_or(&first).to_string();
            let mut help: Vec<String> = paragraphs.collect();
            help.push("`dfu help COMMAND` lists the options and the values they take".into());
            render::failure(&Failure::usage(message, help.join("\n")), true);
            std::process::exit(e.exit_code());
        }
        // Printing goes to a closed pipe at worst; the exit code still tells.
        let _ = e.print();
        config::explain(&e);
        if e.use_stderr() {
            out::errln!("code: {}", dfu::Code::Usage);
        }
        std::process::exit(e.exit_code())
    })
}

fn run(cli: Cli) -> Result<(), Failure> {
    let global = cli.global;
    // A --layout that does not parse is refused whatever the command, before any device
    // is touched.
    global.layout()?;
    match cli.command {
        Command::List { json } => cmd_device::list(&global, json),
        Command::Info { json } => cmd_info::info(&global, json),
        Command::Detach { json } => cmd_device::detach(&global, json),
        Command::Reset { json } => cmd_device::reset(&global, json),
        Command::Flash(a) => cmd_flash::flash(&global, a),
        Command::Read(a) => cmd_read::read(&global, a),
        Command::Erase(a) => cmd_flash::erase(&global, a),
        Command::Image(c) => cmd_image::image(c),
        Command::Suffix(c) => cmd_suffix::suffix(c),
        Command::Doctor {
            json,
            fix,
            yes,
            access,
            udev_rules_dir,
        } => {
            if fix {
                doctor_fix::fix(yes, access, udev_rules_dir.as_deref())
            } else {
                doctor::run(&global, json)
            }
        }
        Command::Sim(c) => cmd_device::sim(c),
        Command::Completions { shell } => generate::completions(shell),
        Command::Manpage => generate::manpage(),
        Command::OptionBytes(a) => cmd_protect::option_bytes(&global, a),
        Command::Unprotect { force, json } => cmd_protect::unprotect(&global, force, json),
        Command::Profile(c) => cmd_profile::profile(&global, c),
        Command::Schema => cmd_schema::run(),
    }
}
