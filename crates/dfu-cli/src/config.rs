//! Defaults from `dfu.toml` and `DFU_*` environment variables.
//!
//! clap stays the one definition of the options: the keys are the long names of the options
//! clap knows (`device`, `address`, `no-verify`; `files` for the files to flash), and the
//! defaults found are added to the command line before clap parses it, so they are checked
//! exactly as typed options are. Precedence: the command line, then the environment
//! (`DFU_DEVICE`, `DFU_NO_VERIFY`, ...), then `dfu.toml` (a `[flash]`, `[read]`, ... table
//! over its top level), then the device profile (which the library applies when nothing
//! else says, e.g. the application address).

use crate::args::Cli;
use crate::exit::Failure;
use crate::out::errln;
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, CommandFactory};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The name of the file, looked for in the current directory and its parents.
pub const FILE_NAME: &str = "dfu.toml";

/// Options that destroy data or override checks: taken from the command line only.
const COMMAND_LINE_ONLY: &[&str] = &[
    "force",
    "all",
    "mass-erase",
    "irreversible",
    "help",
    "version",
];

/// One setting of the command being run and where it came from.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Setting {
    /// The key: the option's long name (`address`), or `files`.
    pub key: String,
    /// The value as given (a flag: `true`).
    pub value: String,
    /// `command line`, `environment DFU_X`, or `dfu.toml PATH` (with `[table]`).
    pub source: String,
}

static SETTINGS: OnceLock<Vec<Setting>> = OnceLock::new();

/// The settings of the command being run, recorded by [`apply`].
pub fn settings() -> &'static [Setting] {
    SETTINGS.get().map_or(&[], Vec::as_slice)
}

/// After clap refused the command line: which of its values came from the environment or
/// dfu.toml, so that a bad one is found where it was written.
pub fn explain(e: &clap::Error) {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        return;
    }
    for s in settings().iter().filter(|s| s.source != "command line") {
        errln!("note: {} = {} came from {}", s.key, s.value, s.source);
    }
}

/// `argv` with the defaults from the environment and `dfu.toml` added; records where every
/// setting came from (see [`settings`]).
pub fn apply(argv: Vec<String>) -> Result<Vec<String>, Failure> {
    // Help and version work whatever state dfu.toml is in.
    if argv
        .iter()
        .skip(1)
        .any(|a| matches!(a.as_str(), "-h" | "--help" | "-V" | "--version"))
    {
        return Ok(argv);
    }
    let (argv, settings) = resolve(argv, &std::env::current_dir().unwrap_or_default())?;
    let _ = SETTINGS.set(settings);
    Ok(argv)
}

/// The settings `dfu COMMAND` would get here from the environment and `dfu.toml` alone.
pub fn settings_for(command: &str) -> Result<Vec<Setting>, Failure> {
    let argv = vec!["dfu".to_string(), command.to_string()];
    let cwd = std::env::current_dir().unwrap_or_default();
    Ok(resolve(argv, &cwd)?.1)
}

/// The work of [`apply`], for a given current directory.
fn resolve(mut argv: Vec<String>, cwd: &Path) -> Result<(Vec<String>, Vec<Setting>), Failure> {
    let file = find(cwd).map(|p| load(&p)).transpose()?;
    let mut root = Cli::command();
    root.build();
    if let Some(f) = &file {
        f.check(&root)?;
    }
    let Ok(pre) = root.clone().ignore_errors(true).try_get_matches_from(&argv) else {
        return Ok((argv, Vec::new()));
    };
    let Some((name, matches)) = pre.subcommand() else {
        return Ok((argv, Vec::new()));
    };
    let Some(sub) = root.find_subcommand(name) else {
        return Ok((argv, Vec::new()));
    };
    let mut settings = Vec::new();
    let (mut options, mut positionals) = (Vec::new(), Vec::new());
    for arg in sub.get_arguments().filter(|a| usable(a)) {
        let key = key_of(arg);
        let id = arg.get_id().as_str();
        match matches.value_source(id) {
            Some(ValueSource::CommandLine) => {
                settings.push(given(matches, arg, "command line".into()));
                continue;
            }
            Some(ValueSource::EnvVariable) => {
                let var = arg.get_env().map(|e| e.to_string_lossy().into_owned());
                settings.push(given(
                    matches,
                    arg,
                    format!("environment {}", var.unwrap_or_default()),
                ));
                continue;
            }
            _ => {}
        }
        let found = match from_env(arg, &key)? {
            Some(v) => Some(v),
            None => file
                .as_ref()
                .map(|f| f.value(name, arg, &key))
                .transpose()?
                .flatten(),
        };
        let Some((values, source)) = found else {
            continue;
        };
        settings.push(Setting {
            key: key.clone(),
            value: values.join(" "),
            source,
        });
        if is_flag(arg) {
            if values.first().is_some_and(|v| v == "true") {
                options.push(format!("--{key}"));
            }
        } else if arg.is_positional() {
            positionals.extend(values);
        } else {
            options.extend(values.iter().map(|v| format!("--{key}={v}")));
        }
    }
    let end = argv.iter().position(|a| a == "--").unwrap_or(argv.len());
    argv.splice(end..end, options);
    if !positionals.is_empty() {
        if !argv.iter().any(|a| a == "--") {
            argv.push("--".into());
        }
        argv.extend(positionals);
    }
    Ok((argv, settings))
}

/// Whether an option may come from the environment or `dfu.toml`.
fn usable(arg: &Arg) -> bool {
    !arg.is_hide_set() && !COMMAND_LINE_ONLY.contains(&key_of(arg).as_str())
}

/// The key of an option: its long name, or a positional argument's id (`files`).
fn key_of(arg: &Arg) -> String {
    arg.get_long()
        .map_or_else(|| arg.get_id().to_string(), str::to_string)
}

fn is_flag(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::SetTrue)
}

fn is_path(arg: &Arg) -> bool {
    arg.get_value_parser().type_id() == std::any::TypeId::of::<PathBuf>()
}

/// A setting given on the command line (or through clap's own `env`).
fn given(matches: &clap::ArgMatches, arg: &Arg, source: String) -> Setting {
    let value = matches
        .get_raw(arg.get_id().as_str())
        .map(|v| {
            v.map(|s| s.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    Setting {
        key: key_of(arg),
        value: if is_flag(arg) { "true".into() } else { value },
        source,
    }
}

/// `DFU_<KEY>` (`DFU_NO_VERIFY` for `no-verify`) for an option, as values and source.
fn from_env(arg: &Arg, key: &str) -> Result<Option<(Vec<String>, String)>, Failure> {
    if arg.is_positional() || arg.get_env().is_some() {
        return Ok(None);
    }
    let var = format!("DFU_{}", key.to_uppercase().replace('-', "_"));
    let Ok(value) = std::env::var(&var) else {
        return Ok(None);
    };
    let value = if is_flag(arg) {
        match value.to_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => "true".to_string(),
            "0" | "false" | "no" | "off" | "" => "false".to_string(),
            _ => {
                return Err(Failure::usage(
                    format!("{var}={value}: {var} is a switch"),
                    format!("set {var}=1 to turn --{key} on, {var}=0 to turn it off"),
                ))
            }
        }
    } else if value.is_empty() {
        return Ok(None);
    } else {
        value
    };
    Ok(Some((vec![value], format!("environment {var}"))))
}

/// `dfu.toml` in `dir` or the nearest parent that has one.
fn find(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// A loaded `dfu.toml`.
struct ConfigFile {
    path: PathBuf,
    table: toml::Table,
}

fn load(path: &Path) -> Result<ConfigFile, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::usage(
            format!("cannot read {}: {e}", path.display()),
            "fix or remove the file",
        )
    })?;
    let table = text.parse::<toml::Table>().map_err(|e| {
        Failure::usage(
            format!("{} is not valid TOML: {}", path.display(), e.message()),
            format!(
                "see the README's \"Configuration\" section; {}{}",
                at_line(&text, e.span()),
                if e.message().contains("escape") {
                    "; write Windows paths in single quotes ('C:\\fw\\app.bin'), where a backslash is just a backslash"
                } else {
                    ""
                }
            ),
        )
    })?;
    Ok(ConfigFile {
        path: path.to_path_buf(),
        table,
    })
}

fn at_line(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    span.map_or_else(String::new, |s| {
        format!(
            "the error is on line {}",
            text[..s.start].lines().count().max(1)
        )
    })
}

impl ConfigFile {
    /// Every key is a long option name of some command (top level) or of its command
    /// (`[flash]`); anything else is an error naming the key and the file.
    fn check(&self, root: &clap::Command) -> Result<(), Failure> {
        for (key, value) in &self.table {
            match (value, root.find_subcommand(key)) {
                (toml::Value::Table(t), Some(sub)) => {
                    for k in t.keys() {
                        if !sub.get_arguments().any(|a| key_of(a) == *k) {
                            return Err(self.unknown(&format!("{key}.{k}"), &keys(sub)));
                        }
                        self.allowed(k)?;
                    }
                }
                _ => {
                    let all: Vec<String> = root.get_subcommands().flat_map(keys).collect();
                    if !all.contains(key) {
                        return Err(self.unknown(key, &all));
                    }
                    self.allowed(key)?;
                }
            }
        }
        Ok(())
    }

    fn unknown(&self, key: &str, known: &[String]) -> Failure {
        let mut known: Vec<&str> = known
            .iter()
            .map(String::as_str)
            .filter(|k| !COMMAND_LINE_ONLY.contains(k))
            .collect();
        known.sort_unstable();
        known.dedup();
        Failure::usage(
            format!("{}: unknown key \"{key}\"", self.path.display()),
            format!(
                "keys are the long option names without \"--\": {}; tables: [flash], [read], ...",
                known.join(", ")
            ),
        )
    }

    fn allowed(&self, key: &str) -> Result<(), Failure> {
        if COMMAND_LINE_ONLY.contains(&key) {
            return Err(Failure::usage(
                format!(
                    "{}: \"{key}\" is taken from the command line only",
                    self.path.display()
                ),
                format!("remove it from the file and give --{key} when you mean it"),
            ));
        }
        Ok(())
    }

    /// The value for `arg` when running `command`: its table's, else the top level's. A
    /// top-level key reaches every command only when it selects the device (`device`,
    /// `sim`, `alt`, ...); the others (`address`, `files`, `no-verify`, ...) are defaults
    /// for `flash`, the main job, and other commands take them from their own table.
    fn value(
        &self,
        command: &str,
        arg: &Arg,
        key: &str,
    ) -> Result<Option<(Vec<String>, String)>, Failure> {
        let table = self.table.get(command).and_then(toml::Value::as_table);
        let (value, source) = match table.and_then(|t| t.get(key)) {
            Some(v) => (v, format!("{} [{command}]", self.path.display())),
            None => match self.table.get(key) {
                Some(v) if !v.is_table() && (arg.is_global_set() || command == "flash") => {
                    (v, self.path.display().to_string())
                }
                _ => return Ok(None),
            },
        };
        let values = self.strings(arg, key, value)?;
        Ok(Some((values, format!("{FILE_NAME} {source}"))))
    }

    /// A TOML value as the strings clap would get on the command line; paths relative to
    /// the file's directory.
    fn strings(&self, arg: &Arg, key: &str, value: &toml::Value) -> Result<Vec<String>, Failure> {
        let many = arg.get_num_args().is_some_and(|n| n.max_values() > 1)
            || matches!(arg.get_action(), ArgAction::Append);
        let items: Vec<&toml::Value> = match value {
            toml::Value::Array(a) if many => a.iter().collect(),
            v => vec![v],
        };
        let mut out = Vec::new();
        for v in items {
            let s = match v {
                toml::Value::Boolean(b) if is_flag(arg) => b.to_string(),
                toml::Value::String(s) if !is_flag(arg) => self.relative(arg, s),
                // Addresses as people write them (and as `dfu info` then shows them).
                toml::Value::Integer(i) if key == "address" => format!("0x{i:08x}"),
                toml::Value::Integer(i) if !is_flag(arg) => i.to_string(),
                _ => {
                    let want = if is_flag(arg) {
                        "true or false"
                    } else if many {
                        "a string or a list of strings"
                    } else {
                        "a string or a number"
                    };
                    return Err(Failure::usage(
                        format!("{}: \"{key}\" must be {want}", self.path.display()),
                        format!("e.g. {}", example(arg, key)),
                    ));
                }
            };
            out.push(s);
        }
        Ok(out)
    }

    /// Paths in the file are relative to the file's directory (a profile too, when it names
    /// a file rather than a built-in profile).
    fn relative(&self, arg: &Arg, s: &str) -> String {
        let file_like = is_path(arg) || (key_of(arg) == "profile" && s.ends_with(".toml"));
        match self.path.parent() {
            Some(dir) if file_like && Path::new(s).is_relative() => {
                dir.join(s).display().to_string()
            }
            _ => s.to_string(),
        }
    }
}

/// The keys of a command: the long names of its options and its positional arguments.
fn keys(cmd: &clap::Command) -> Vec<String> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set())
        .map(key_of)
        .collect()
}

fn example(arg: &Arg, key: &str) -> String {
    if is_flag(arg) {
        format!("{key} = true")
    } else if arg.is_positional() {
        format!("{key} = [\"build/app.bin\"]")
    } else {
        format!("{key} = \"...\"")
    }
}
