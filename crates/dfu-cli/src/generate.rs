//! `dfu completions SHELL` and `dfu manpage`: generated from the clap definitions in
//! `args.rs`, so they never disagree with `dfu --help`.

use crate::args::Cli;
use crate::exit::Failure;
use crate::out::out;
use clap::CommandFactory;
use std::path::Path;

/// The command as clap sees it, as the completion and man page generators want it.
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// `dfu completions SHELL`: the completion script on standard output.
pub fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut command(), "dfu", &mut buf);
    out!("{}", String::from_utf8_lossy(&buf));
    Ok(())
}

/// `dfu manpage [--dir DIR]`: `dfu.1` on standard output, or one page per command
/// (`dfu.1`, `dfu-flash.1`, `dfu-image-convert.1`, ...) written into DIR.
pub fn manpage(dir: Option<&Path>) -> Result<(), Failure> {
    let cmd = command();
    if let Some(dir) = dir {
        clap_mangen::generate_to(cmd, dir).map_err(|e| {
            Failure::file(
                format!("cannot write the man pages into {}: {e}", dir.display()),
                "give an existing directory you may write to",
            )
        })?;
        return Ok(());
    }
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut buf)
        .map_err(|e| Failure::file(format!("cannot render the man page: {e}"), "report this"))?;
    out!("{}", String::from_utf8_lossy(&buf));
    Ok(())
}
