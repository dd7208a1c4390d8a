//! `dfu completions SHELL` and `dfu manpage`: generated from the clap definitions in
//! `args.rs`, so they never disagree with `dfu --help`.

use crate::args::Cli;
use crate::exit::Failure;
use crate::out::out;
use clap::CommandFactory;

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

/// `dfu manpage`: the one man page, `dfu.1`, on standard output. Every command has its
/// own section in it (`dfu flash`, `dfu image convert`, ...): one page per command would
/// name the `dfu suffix` page dfu-suffix(1), which is the page of Debian's dfu-suffix tool.
pub fn manpage() -> Result<(), Failure> {
    let page = render().map_err(|e| {
        Failure::file(
            format!("cannot render the man page: {e}"),
            "this is a bug in dfu",
        )
    })?;
    out!("{}", String::from_utf8_lossy(&page));
    Ok(())
}

/// The roff of `dfu.1`.
fn render() -> std::io::Result<Vec<u8>> {
    let cmd = command();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    let shared: Vec<String> = cmd
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    for mut sub in commands(&cmd) {
        let name = sub.get_bin_name().unwrap_or(sub.get_name()).to_string();
        // The options every command shares are described once, at the top.
        for id in &shared {
            if sub.get_arguments().any(|a| a.get_id() == id.as_str()) {
                sub = sub.mut_arg(id, |a| a.hide(true));
            }
        }
        let m = clap_mangen::Man::new(sub);
        let mut part = Vec::new();
        m.render_description_section(&mut part)?;
        m.render_synopsis_section(&mut part)?;
        m.render_options_section(&mut part)?;
        page.extend_from_slice(format!(".SH \"{name}\"\n").as_bytes());
        // The command's own sections become subsections of its section.
        let text = String::from_utf8_lossy(&part).replace("\n.SH ", "\n.SS ");
        let text = text
            .strip_prefix(".SH ")
            .map_or(text.clone(), |t| format!(".SS {t}"));
        page.extend_from_slice(text.as_bytes());
    }
    man.render_extra_section(&mut page)?;
    man.render_version_section(&mut page)?;
    Ok(page)
}

/// Every command below `cmd`, depth first (`image`, `image inspect`, `image convert`, ...).
fn commands(cmd: &clap::Command) -> Vec<clap::Command> {
    let mut all = Vec::new();
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        all.push(sub.clone());
        all.extend(commands(sub));
    }
    all
}
