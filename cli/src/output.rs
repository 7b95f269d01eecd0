//! Where results go, failing closed: a file is written to a temporary file
//! beside it and renamed over it only once everything was written, so a
//! failed or killed run leaves the previous file untouched; standard
//! output must be open, and every write error is an error.

use std::fs::File;
#[cfg(unix)]
use std::fs::Permissions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::CliError;

/// An output being written.
pub struct Output {
    sink: Sink,
    name: String,
}

enum Sink {
    /// Standard output: streamed, it cannot be taken back.
    Stdout(io::StdoutLock<'static>),
    /// A device, a pipe or another special file: written in place (there
    /// is nothing to rename over).
    Direct(File),
    /// A regular file: a temporary file beside `target`, renamed over it
    /// by [`Output::commit`].
    Atomic { tmp: NamedTempFile, target: PathBuf },
}

impl Output {
    /// The file at `path`, or standard output for `None` and `-`.
    pub fn open(path: Option<&Path>) -> Result<Output, CliError> {
        match path {
            Some(p) if p.as_os_str() != "-" => Output::file(p),
            _ => Output::stdout(),
        }
    }

    /// Standard output; an error when it is closed.
    pub fn stdout() -> Result<Output, CliError> {
        ensure_stdout_open()?;
        Ok(Output {
            sink: Sink::Stdout(io::stdout().lock()),
            name: String::from("standard output"),
        })
    }

    /// The file at `path`. A regular file (or a new one) is replaced only
    /// by [`Output::commit`]; anything else (`/dev/full`, a pipe) is
    /// written in place.
    pub fn file(path: &Path) -> Result<Output, CliError> {
        let name = format!("`{}`", path.display());
        let fail = |e: io::Error| CliError::new(format!("cannot write {name}: {e}"));
        // Follow a symbolic link, so the file it names is replaced and the
        // link kept.
        let target = match std::fs::canonicalize(path) {
            Ok(real) => real,
            Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_path_buf(),
            Err(e) => return Err(fail(e)),
        };
        let existing = match std::fs::metadata(&target) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(fail(e)),
        };
        if let Some(m) = &existing {
            if m.is_dir() {
                return Err(CliError::new(format!(
                    "cannot write {name}: it is a directory"
                )));
            }
            if !m.is_file() {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .map_err(fail)?;
                return Ok(Output {
                    sink: Sink::Direct(f),
                    name,
                });
            }
        }
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let base = target
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let prefix = format!(".{base}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".priceguard-tmp");
        // What `File::create` asks for (the umask still applies), not the
        // temporary file's usual owner-only 0600.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(Permissions::from_mode(0o666));
        }
        let tmp = builder.tempfile_in(&dir).map_err(fail)?;
        // The replaced file keeps its permissions.
        if let Some(m) = existing {
            tmp.as_file()
                .set_permissions(m.permissions())
                .map_err(fail)?;
        }
        Ok(Output {
            sink: Sink::Atomic { tmp, target },
            name,
        })
    }

    /// The output's name for messages: `` `path` `` or `standard output`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Finishes the output: flushes it, and for a regular file syncs the
    /// temporary file to disk and renames it over the target.
    pub fn commit(self) -> Result<(), CliError> {
        let name = self.name;
        let fail = |e: io::Error| CliError::new(format!("cannot write {name}: {e}"));
        match self.sink {
            Sink::Stdout(mut s) => s.flush().map_err(fail),
            Sink::Direct(mut f) => f.flush().map_err(fail),
            Sink::Atomic { tmp, target } => {
                tmp.as_file().sync_all().map_err(fail)?;
                tmp.persist(&target).map_err(|e| fail(e.error))?;
                // Make the rename itself durable (best effort: not every
                // file system lets a directory be synced).
                if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
                    if let Ok(d) = File::open(dir) {
                        let _ = d.sync_all();
                    }
                }
                Ok(())
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.sink {
            Sink::Stdout(s) => s.write(buf),
            Sink::Direct(f) => f.write(buf),
            Sink::Atomic { tmp, .. } => tmp.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(s) => s.write_all(buf),
            Sink::Direct(f) => f.write_all(buf),
            Sink::Atomic { tmp, .. } => tmp.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(s) => s.flush(),
            Sink::Direct(f) => f.flush(),
            Sink::Atomic { tmp, .. } => tmp.flush(),
        }
    }
}

/// Writes `bytes` to standard output and flushes it; an error when it is
/// closed or the write fails.
pub fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = Output::stdout()?;
    out.write_all(bytes)
        .map_err(|e| CliError::new(format!("cannot write standard output: {e}")))?;
    out.commit()
}

/// Fails when standard output is closed (`>&-`). The Rust runtime reopens
/// a closed standard output on `/dev/null` read-write before `main`, so
/// writes would vanish and the run would seem to succeed: that is what is
/// recognized (a shell's `>/dev/null` opens it write-only, which passes).
pub fn ensure_stdout_open() -> Result<(), CliError> {
    if stdout_closed() {
        return Err(CliError::new(
            "standard output is closed: nothing could be written (give --output FILE, or use >/dev/null to discard the output)",
        ));
    }
    Ok(())
}

#[cfg(unix)]
fn stdout_closed() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let Ok(flags) = rustix::fs::fcntl_getfl(io::stdout().as_fd()) else {
        return true;
    };
    if !flags.contains(rustix::fs::OFlags::RDWR) {
        return false;
    }
    let Ok(fd) = io::stdout().as_fd().try_clone_to_owned() else {
        return true;
    };
    let (Ok(out), Ok(null)) = (File::from(fd).metadata(), std::fs::metadata("/dev/null")) else {
        return false;
    };
    out.file_type().is_char_device() && out.rdev() == null.rdev()
}

#[cfg(not(unix))]
fn stdout_closed() -> bool {
    false
}
