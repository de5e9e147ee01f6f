//! Output files that appear whole or not at all: the data goes to a
//! temporary file in the target's folder, which is renamed over the target
//! only once it is complete and synced. SIGINT and SIGTERM remove the
//! temporary file before the process ends, because it may contain
//! applicant data.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once};

use anyhow::Context;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tempfile::NamedTempFile;

/// The paths of temporary files that exist now and were neither renamed nor
/// deleted. The signal thread deletes them, and it holds the lock until the
/// process ends, so that no rename can slip in between.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Starts the signal thread on the first temporary file.
static WATCH_SIGNALS: Once = Once::new();

/// Locks `PENDING`. A panic while the lock was held leaves the list valid,
/// so a poisoned lock is used as it is.
fn pending() -> MutexGuard<'static, Vec<PathBuf>> {
    PENDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts a thread that, on SIGINT or SIGTERM, deletes every pending path
/// and then ends the process as the signal's default action would, so a
/// shell reports status 130 or 143.
fn watch_signals() {
    WATCH_SIGNALS.call_once(|| {
        let mut signals = match Signals::new([SIGINT, SIGTERM]) {
            Ok(signals) => signals,
            Err(err) => {
                tracing::warn!(
                    error = %err,
                    "cannot handle SIGINT and SIGTERM; an interrupted command leaves its temporary file"
                );
                return;
            }
        };
        std::thread::spawn(move || {
            let Some(signal) = signals.forever().next() else {
                return;
            };
            let paths = pending();
            for path in paths.iter() {
                let _ = std::fs::remove_file(path);
            }
            let _ = signal_hook::low_level::emulate_default_handler(signal);
        });
    });
}

/// Returns the folder that contains `target`, "." for a bare file name.
pub fn folder(target: &Path) -> &Path {
    match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// A hidden temporary file beside an output's target. It is deleted when
/// dropped, and on SIGINT or SIGTERM, unless `persist` renamed it.
pub struct TempOutput {
    /// `None` once `persist` has renamed the file.
    file: Option<NamedTempFile>,
    /// The file's path and the paths of the files that go with it.
    paths: Vec<PathBuf>,
}

impl TempOutput {
    pub fn path(&self) -> &Path {
        &self.paths[0]
    }

    pub fn as_file(&self) -> &File {
        self.file
            .as_ref()
            .expect("the file is there until persist")
            .as_file()
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        let mut paths = pending();
        for path in &self.paths {
            let _ = std::fs::remove_file(path);
        }
        paths.retain(|path| !self.paths.contains(path));
    }
}

/// Creates a hidden temporary file beside `target`, named
/// `.partner-<purpose>-XXXXXX.tmp`. The files named by the temporary file's
/// path followed by one of `companion_suffixes` (such as SQLite's
/// `-journal`) are deleted with it. Like any `tempfile`, it is readable by
/// its owner only, which suits exports and backups that contain applicant
/// data.
pub fn create_beside(
    target: &Path,
    purpose: &str,
    companion_suffixes: &[&str],
) -> anyhow::Result<TempOutput> {
    watch_signals();
    let dir = folder(target);

    // The lock is taken before the file exists, so that a signal cannot
    // come between its creation and its registration.
    let mut pending = pending();
    let file = tempfile::Builder::new()
        .prefix(&format!(".partner-{purpose}-"))
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    let mut paths = vec![file.path().to_path_buf()];
    for suffix in companion_suffixes {
        let mut name = OsString::from(file.path().as_os_str());
        name.push(suffix);
        paths.push(PathBuf::from(name));
    }
    pending.extend(paths.iter().cloned());

    Ok(TempOutput {
        file: Some(file),
        paths,
    })
}

/// Syncs `temp` and renames it to `target`. An existing `target` is
/// replaced when `overwrite` is set, and is an error otherwise.
pub fn persist(mut temp: TempOutput, target: &Path, overwrite: bool) -> anyhow::Result<()> {
    temp.as_file()
        .sync_all()
        .with_context(|| format!("cannot write {}", temp.path().display()))?;

    let renamed = {
        let mut pending = pending();
        let file = temp.file.take().expect("persist runs once");
        let renamed = if overwrite {
            file.persist(target)
        } else {
            file.persist_noclobber(target)
        };
        match renamed {
            Ok(_) => {
                pending.retain(|path| !temp.paths.contains(path));
                temp.paths.clear();
                Ok(())
            }
            // Dropping `temp` after the lock is released deletes the file.
            Err(err) => {
                temp.file = Some(err.file);
                Err(err.error)
            }
        }
    };
    renamed.with_context(|| format!("cannot rename the output to {}", target.display()))?;

    // Syncing the folder makes the rename durable. A failure leaves a
    // complete file that a crash could still undo, so it is only logged.
    let dir = folder(target);
    if let Ok(handle) = std::fs::File::open(dir)
        && let Err(err) = handle.sync_all()
    {
        tracing::warn!(error = %err, folder = %dir.display(), "cannot sync the folder");
    }
    Ok(())
}
