//! `dfu`: flash firmware into microcontrollers over USB DFU and ST's DfuSe extension.
#![forbid(unsafe_code)]

mod args;
mod cmd_device;
mod cmd_flash;
mod cmd_image;
mod cmd_info;
mod cmd_read;
mod cmd_suffix;
mod compat;
mod doctor;
mod exit;
mod help;
mod interrupt;
mod out;
mod render;
mod select;
mod serial;
mod sim_serve;

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
    let cli = Cli::parse();
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
        Command::Doctor { json } => doctor::run(&global, json),
        Command::Sim(c) => cmd_device::sim(c),
    }
}
