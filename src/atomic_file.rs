//! Output files that appear whole or not at all: the data goes to a
//! temporary file in the target's folder, which is renamed over the target
//! only once it is complete and synced.

use std::path::Path;

use anyhow::Context;
use tempfile::NamedTempFile;

/// Returns the folder that contains `target`, "." for a bare file name.
pub fn folder(target: &Path) -> &Path {
    match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Creates a hidden temporary file beside `target`, named
/// `.partner-<purpose>-XXXXXX.tmp`. It is deleted when dropped unless
/// `persist` renames it. Like any `tempfile`, it is readable by its owner
/// only, which suits exports and backups that contain applicant data.
pub fn create_beside(target: &Path, purpose: &str) -> anyhow::Result<NamedTempFile> {
    let dir = folder(target);
    tempfile::Builder::new()
        .prefix(&format!(".partner-{purpose}-"))
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))
}

/// Syncs `temp` and renames it to `target`. An existing `target` is
/// replaced when `overwrite` is set, and is an error otherwise.
pub fn persist(temp: NamedTempFile, target: &Path, overwrite: bool) -> anyhow::Result<()> {
    temp.as_file()
        .sync_all()
        .with_context(|| format!("cannot write {}", temp.path().display()))?;
    let renamed = if overwrite {
        temp.persist(target)
    } else {
        temp.persist_noclobber(target)
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
