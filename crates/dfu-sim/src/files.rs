//! Where state and stats files live. Natively they are files; on wasm32 (the simulator in
//! the web page) there is no file system, so they live in memory, by path, where the page
//! reads and fills them ([`put`], [`get`]).

/// True when the file exists.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn exists(path: &std::path::Path) -> bool {
    path.exists()
}

/// The file's text.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn read_to_string(path: &std::path::Path) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

#[cfg(target_arch = "wasm32")]
mod memory {
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    thread_local! {
        static FILES: RefCell<BTreeMap<PathBuf, Vec<u8>>> = const { RefCell::new(BTreeMap::new()) };
    }

    /// Stores `bytes` as the file at `path`.
    pub fn put(path: &Path, bytes: &[u8]) {
        FILES.with(|f| f.borrow_mut().insert(path.to_path_buf(), bytes.to_vec()));
    }

    /// The file at `path`, if there is one.
    pub fn get(path: &Path) -> Option<Vec<u8>> {
        FILES.with(|f| f.borrow().get(path).cloned())
    }

    pub(crate) fn exists(path: &Path) -> bool {
        get(path).is_some()
    }

    pub(crate) fn read_to_string(path: &Path) -> std::io::Result<String> {
        let bytes = get(path).ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?;
        String::from_utf8(bytes).map_err(std::io::Error::other)
    }
}

#[cfg(target_arch = "wasm32")]
pub(crate) use memory::{exists, read_to_string};
#[cfg(target_arch = "wasm32")]
pub use memory::{get, put};
