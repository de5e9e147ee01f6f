//! Checks on the file that `export --output` and `backup` write. The output
//! replaces that path by renaming a new file over it, so the path must not
//! be the database or a file that SQLite keeps beside it, and whatever
//! already exists there must be a regular file.

use std::ffi::OsString;
use std::fs::FileType;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::atomic_file::folder;

/// The files of a database: the suffix added to its name, and what the file
/// is, for messages.
const DATABASE_FILES: &[(&str, &str)] = &[
    ("", "the database itself"),
    ("-wal", "the database's write-ahead log"),
    ("-shm", "the database's shared-memory index"),
    ("-journal", "the database's rollback journal"),
];

/// The kind of file at an output path that passed `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Nothing: the output creates the file.
    Nothing,
    /// A regular file, which the output replaces.
    RegularFile,
}

/// Returns the absolute path of `path` with the symbolic links of its folder
/// resolved. The last component is kept as it is, so that the result names
/// a link rather than its target, and exists only when `path` does.
fn resolve_folder(path: &Path) -> anyhow::Result<PathBuf> {
    let Some(name) = path.file_name() else {
        anyhow::bail!("{} does not name a file; give a file path", path.display());
    };
    let dir = folder(path);
    let dir = dir
        .canonicalize()
        .with_context(|| format!("folder {} does not exist or cannot be read", dir.display()))?;
    Ok(dir.join(name))
}

/// Checks whether two existing paths are the same file, by device and inode.
/// `metadata` does not open the file, so a FIFO cannot block the check.
#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

// NOTE: without inode numbers, only the path comparison guards the
// database on other systems.
#[cfg(not(unix))]
fn same_file(_: &Path, _: &Path) -> bool {
    false
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// Describes a file type that is not a regular file.
fn kind(file_type: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
    }
    if file_type.is_dir() {
        return "a folder";
    }
    "not a regular file"
}

/// Rejects `target` when it is one of the files of the database at `db`:
/// the database, its `-wal`, `-shm` or `-journal` file. Paths are compared
/// with symbolic links and relative parts resolved, and existing files also
/// by identity, so that a hard link or a second mount of the same folder
/// is caught too.
fn check_not_database(db: &Path, target: &Path) -> anyhow::Result<()> {
    let target_resolved = resolve_folder(target)?;
    let target_final = target.canonicalize().ok();

    // The database may itself be a link. SQLite 3.10.0 and later then keep
    // the -wal and -shm files beside the link's target, so both names count.
    let mut databases = Vec::new();
    if let Ok(resolved) = resolve_folder(db) {
        databases.push(resolved);
    }
    if let Ok(canonical) = db.canonicalize() {
        databases.push(canonical);
    }

    for database in &databases {
        for (suffix, what) in DATABASE_FILES {
            let guarded = with_suffix(database, suffix);
            let same_path = target_resolved == guarded || target_final.as_ref() == Some(&guarded);
            let same_inode = same_file(target, &guarded);
            let same_folder_and_name = target_resolved.file_name() == guarded.file_name()
                && same_file(folder(target), folder(&guarded));
            if same_path || same_inode || same_folder_and_name {
                anyhow::bail!(
                    "{} is {what} ({}), which the output must never replace; choose another file",
                    target.display(),
                    guarded.display()
                );
            }
        }
    }
    Ok(())
}

/// Checks that the output may be written to `target` for the database at
/// `db`, and returns what is there now. A symbolic link is rejected rather
/// than followed, so that a link planted in a shared folder cannot redirect
/// the output onto another file.
pub fn check(db: &Path, target: &Path) -> anyhow::Result<Existing> {
    check_not_database(db, target)?;

    let metadata = match std::fs::symlink_metadata(target) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Nothing),
        Err(err) => {
            return Err(err).with_context(|| format!("cannot inspect {}", target.display()));
        }
    };
    let file_type = metadata.file_type();
    if file_type.is_file() {
        return Ok(Existing::RegularFile);
    }
    if file_type.is_symlink() {
        let hint = match target.canonicalize() {
            Ok(resolved) => format!(", such as the link's target {}", resolved.display()),
            Err(_) => String::new(),
        };
        anyhow::bail!(
            "{} is a symbolic link, which the output does not follow; give the path of a \
             regular file{hint}",
            target.display()
        );
    }
    anyhow::bail!(
        "{} is {}; the output replaces only a regular file, so give the path of a regular \
         file or of a new one",
        target.display(),
        kind(file_type)
    )
}
