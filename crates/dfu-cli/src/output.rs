//! Output files written whole or not at all: the bytes go to a temporary file in the target
//! directory, which is renamed over the name given only once everything is written and
//! flushed. A failure (a full disk, Ctrl-C, an error of the device being read) leaves no
//! file behind, and never a half-written one under the name given. An existing file is
//! replaced only with `--force`.
//!
//! A name that is not a regular file (`/dev/null`, a named pipe, a terminal) cannot be
//! replaced by a rename; it is written in place, with `--force` as for any existing name.

use crate::exit::Failure;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// An output file being written.
pub struct NewFile {
    path: PathBuf,
    force: bool,
    sink: Sink,
}

/// Where the bytes go until [`NewFile::commit`].
enum Sink {
    /// A temporary file beside the target, renamed over it at the end.
    Temp(BufWriter<NamedTempFile>),
    /// A device or pipe, written directly.
    Direct(BufWriter<File>),
}

impl NewFile {
    /// Checks that `path` may be written (absent, or `force`) and opens the temporary file
    /// beside it, so that a read or conversion that cannot be saved is refused before it
    /// starts.
    pub fn create(path: &Path, force: bool) -> Result<NewFile, Failure> {
        let meta = std::fs::metadata(path).ok();
        if meta.is_some() && !force {
            return Err(Failure::output(
                format!("{} exists; not overwriting it", path.display()),
                "choose another file name, or add --force to replace it",
            ));
        }
        let sink = match meta {
            Some(m) if !m.is_file() && !m.is_dir() => {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| cannot(path, &e))?;
                Sink::Direct(BufWriter::new(f))
            }
            _ => {
                let dir = match path.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                let mut builder = tempfile::Builder::new();
                builder.prefix(".dfu-").suffix(".part");
                // The mode a new file gets (0666 less the umask), not a temporary file's 0600.
                #[cfg(unix)]
                builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
                let tmp = builder.tempfile_in(dir).map_err(|e| cannot(path, &e))?;
                Sink::Temp(BufWriter::with_capacity(256 * 1024, tmp))
            }
        };
        Ok(NewFile {
            path: path.to_owned(),
            force,
            sink,
        })
    }

    /// The writer the output streams into.
    pub fn writer(&mut self) -> &mut dyn Write {
        match &mut self.sink {
            Sink::Temp(w) => w,
            Sink::Direct(w) => w,
        }
    }

    /// Writes `data` (an error names the file and says nothing is left behind).
    pub fn write(&mut self, data: &[u8]) -> Result<(), Failure> {
        let r = self.writer().write_all(data);
        r.map_err(|e| self.failed(&e))
    }

    /// Flushes the data to disk and gives it its name. Until this returns, the name given
    /// holds what it held before (or nothing).
    pub fn commit(self) -> Result<(), Failure> {
        let path = self.path.clone();
        let failed = |e: &std::io::Error| write_failed(&path, e);
        match self.sink {
            Sink::Direct(mut w) => w.flush().map_err(|e| failed(&e)),
            Sink::Temp(w) => {
                let tmp = w.into_inner().map_err(|e| failed(e.error()))?;
                tmp.as_file().sync_all().map_err(|e| failed(&e))?;
                let done = if self.force {
                    tmp.persist(&path).map(|_| ())
                } else {
                    tmp.persist_noclobber(&path).map(|_| ())
                };
                done.map_err(|e| {
                    if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                        Failure::output(
                            format!(
                                "{} appeared while it was being written; not overwriting it",
                                path.display()
                            ),
                            "choose another file name, or add --force to replace it",
                        )
                    } else {
                        failed(&e.error)
                    }
                })
            }
        }
    }

    /// The failure of a write to this file.
    pub fn failed(&self, e: &std::io::Error) -> Failure {
        write_failed(&self.path, e)
    }
}

fn cannot(path: &Path, e: &std::io::Error) -> Failure {
    Failure::output(
        format!("cannot create {}: {e}", path.display()),
        "check that the directory exists and is writable",
    )
}

fn write_failed(path: &Path, e: &std::io::Error) -> Failure {
    Failure::output(
        format!(
            "writing {}: {e}; nothing was saved under that name",
            path.display()
        ),
        "check the free space (`df -h`) and write to another disk with -o",
    )
}
