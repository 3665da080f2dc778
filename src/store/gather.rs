//! A SQLite VFS that gathers a commit's WAL writes into one `pwrite`.
//!
//! SQLite appends a commit to the WAL one frame at a time, and each frame
//! as two writes: its 24-byte header, then its page. A batch of triggers
//! touches some thirty pages, so every group commit cost about sixty
//! `pwrite` calls (2.2 a trigger; gathered, 0.6). The kernel's copying of
//! the bytes stays; the calls' own cost goes. This VFS is the default one
//! (`unix`) with a single change for WAL files: writes that continue one
//! another are kept in memory and handed to the file as one write when
//! anything else happens to it: a sync, a read, a write elsewhere, a size
//! query, a truncation, a file control or its closing.
//!
//! Holding writes back is safe only because every commit syncs the WAL
//! before it becomes visible (`synchronous = FULL`, which the store's
//! `configure` sets on every connection and nothing lowers): readers learn
//! of frames from the WAL index, which SQLite updates after that sync, and
//! by then the gathered bytes are in the file. A crash before the sync
//! loses only frames of a commit that nobody was told of, exactly as a
//! crash between two of SQLite's own writes would. Other files (the
//! database, the `-shm` index) go straight to the default VFS, untouched.

use std::ffi::{c_char, c_int, c_void};
use std::sync::OnceLock;

use rusqlite::ffi;

/// The name connections open the VFS by; [`wrapping`] registers it under
/// the same text as a C string.
pub const NAME: &str = "gitlab-mock-gather";

/// The longest run written at once: the default VFS writes at most this
/// many bytes per call (it masks the length to 17 bits), so a run never
/// grows past it. That is some thirty 4 KiB frames, about one commit of a
/// large batch.
const MAX_RUN: usize = 0x1ffff;

/// Registers the VFS once per process; `false` if SQLite has no default
/// VFS to build on, in which case callers open files the ordinary way.
pub fn register() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        // SAFETY: sqlite3_vfs_find with NULL only reads SQLite's list.
        let inner = unsafe { ffi::sqlite3_vfs_find(std::ptr::null()) };
        if inner.is_null() {
            return false;
        }
        // The VFS and its inner pointer live for the rest of the process,
        // as SQLite requires of a registered VFS.
        let _ = INNER.set(InnerVfs(inner));
        let vfs = Box::leak(Box::new(wrapping(inner)));
        // SAFETY: `vfs` is a complete, leaked sqlite3_vfs.
        unsafe { ffi::sqlite3_vfs_register(vfs, 0) == ffi::SQLITE_OK }
    })
}

/// The default VFS, which every call is passed on to.
struct InnerVfs(*mut ffi::sqlite3_vfs);

// SAFETY: a registered sqlite3_vfs is immutable and SQLite calls it from any
// thread.
unsafe impl Send for InnerVfs {}
unsafe impl Sync for InnerVfs {}

static INNER: OnceLock<InnerVfs> = OnceLock::new();

fn inner_vfs() -> *mut ffi::sqlite3_vfs {
    INNER.get().map_or(std::ptr::null_mut(), |inner| inner.0)
}

/// A copy of the default VFS with room for [`Gathering`] in front of each
/// file and its own `xOpen`. The other methods are the default VFS's own;
/// they are handed this VFS rather than theirs, which the `unix` VFS's
/// methods only read `mxPathname` and `pAppData` from, both copied.
fn wrapping(inner: *mut ffi::sqlite3_vfs) -> ffi::sqlite3_vfs {
    // SAFETY: `inner` is SQLite's default VFS, valid for the process.
    let mut vfs = unsafe { *inner };
    vfs.szOsFile += FRONT as c_int;
    vfs.pNext = std::ptr::null_mut();
    vfs.zName = c"gitlab-mock-gather".as_ptr();
    vfs.xOpen = Some(open);
    vfs
}

/// A WAL file as this VFS keeps it: its methods, the default VFS's file
/// right behind it in the same allocation, and the run of writes held back.
#[repr(C)]
struct Gathering {
    base: ffi::sqlite3_file,
    inner: *mut ffi::sqlite3_file,
    run: *mut Run,
}

/// Contiguous bytes that belong at `offset` in the file.
struct Run {
    offset: i64,
    bytes: Vec<u8>,
    /// False when the file pads commits to sector boundaries (a database
    /// opened with `psow=0`): SQLite then writes the last frame's tail
    /// after the commit's sync, so nothing may be held back at all.
    holds_back: bool,
}

/// Where the default VFS's file starts in a WAL file's allocation, kept a
/// multiple of 8 for its alignment.
const FRONT: usize = std::mem::size_of::<Gathering>().next_multiple_of(8);

static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

/// Opens WAL files behind [`Gathering`] and every other file exactly as the
/// default VFS does, at the start of the allocation, with its own methods.
unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let inner = inner_vfs();
    // SAFETY: SQLite hands a file of `szOsFile` bytes, FRONT more than the
    // default VFS asks for, and `inner` is that VFS.
    unsafe {
        let Some(inner_open) = (*inner).xOpen else {
            (*file).pMethods = std::ptr::null();
            return ffi::SQLITE_ERROR;
        };
        if flags & ffi::SQLITE_OPEN_WAL == 0 {
            return inner_open(inner, name, file, flags, out_flags);
        }

        let gathering = file.cast::<Gathering>();
        let inner_file = file.cast::<u8>().add(FRONT).cast::<ffi::sqlite3_file>();
        let code = inner_open(inner, name, inner_file, flags, out_flags);
        if code != ffi::SQLITE_OK {
            (*file).pMethods = std::ptr::null();
            return code;
        }
        gathering.write(Gathering {
            base: ffi::sqlite3_file {
                pMethods: &WAL_METHODS,
            },
            inner: inner_file,
            run: Box::into_raw(Box::new(Run {
                offset: 0,
                bytes: Vec::new(),
                holds_back: overwrites_safely(inner_file),
            })),
        });
        ffi::SQLITE_OK
    }
}

/// Whether the file reports power-safe overwrites, the default, under
/// which SQLite does not pad a commit past its sync.
///
/// # Safety
/// `inner` must be an open file of the default VFS.
unsafe fn overwrites_safely(inner: *mut ffi::sqlite3_file) -> bool {
    // SAFETY: per the contract.
    unsafe {
        let characteristics = match (*(*inner).pMethods).xDeviceCharacteristics {
            Some(method) => method(inner),
            None => 0,
        };
        characteristics & ffi::SQLITE_IOCAP_POWERSAFE_OVERWRITE != 0
    }
}

/// The file behind `file` and its held-back run.
///
/// # Safety
/// `file` must have been opened by [`open`] as a WAL file and not closed.
unsafe fn parts<'a>(file: *mut ffi::sqlite3_file) -> (*mut ffi::sqlite3_file, &'a mut Run) {
    // SAFETY: per the contract, `file` is a live Gathering.
    unsafe {
        let gathering = &*file.cast::<Gathering>();
        (gathering.inner, &mut *gathering.run)
    }
}

/// The default VFS's method `name` of `inner`, or an I/O error if absent.
macro_rules! inner_method {
    ($inner:expr, $name:ident) => {
        match (*(*$inner).pMethods).$name {
            Some(method) => method,
            None => return ffi::SQLITE_IOERR,
        }
    };
}

/// Writes the held-back run, if any, to the file.
///
/// # Safety
/// As for [`parts`].
unsafe fn flush(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: per the contract.
    unsafe {
        let (inner, run) = parts(file);
        if run.bytes.is_empty() {
            return ffi::SQLITE_OK;
        }
        let write = inner_method!(inner, xWrite);
        let length = c_int::try_from(run.bytes.len()).unwrap_or(c_int::MAX);
        let code = write(inner, run.bytes.as_ptr().cast(), length, run.offset);
        // A failed write keeps its bytes, so that the next flush, at the
        // commit's sync at the latest, tries them again instead of leaving
        // a hole in frames SQLite believes written.
        if code == ffi::SQLITE_OK {
            run.bytes.clear();
        }
        code
    }
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    // SAFETY: SQLite passes a file opened by `open` and `amount` readable
    // bytes at `data`.
    unsafe {
        let length = usize::try_from(amount).unwrap_or(0);
        let (inner, run) = parts(file);
        let continues = offset == run.offset + run.bytes.len() as i64;
        if !run.bytes.is_empty() && (!continues || run.bytes.len() + length > MAX_RUN) {
            let code = flush(file);
            if code != ffi::SQLITE_OK {
                return code;
            }
        }
        if length > MAX_RUN || !run.holds_back {
            let write = inner_method!(inner, xWrite);
            return write(inner, data, amount, offset);
        }

        let (_, run) = parts(file);
        if run.bytes.is_empty() {
            run.offset = offset;
        }
        run.bytes
            .extend_from_slice(std::slice::from_raw_parts(data.cast::<u8>(), length));
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes a file opened by `open` once; the run is freed
    // here and never used again.
    unsafe {
        let flushed = flush(file);
        let gathering = &mut *file.cast::<Gathering>();
        drop(Box::from_raw(gathering.run));
        gathering.run = std::ptr::null_mut();
        let inner = gathering.inner;
        let close = inner_method!(inner, xClose);
        let closed = close(inner);
        if flushed != ffi::SQLITE_OK {
            flushed
        } else {
            closed
        }
    }
}

/// Defines a method that writes the held-back run out, then passes the call
/// on to the default VFS.
macro_rules! flushing {
    ($name:ident, $method:ident, ($($arg:ident: $type:ty),*)) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file, $($arg: $type),*) -> c_int {
            // SAFETY: SQLite passes a file opened by `open`.
            unsafe {
                let code = flush(file);
                if code != ffi::SQLITE_OK {
                    return code;
                }
                let (inner, _) = parts(file);
                let method = inner_method!(inner, $method);
                method(inner, $($arg),*)
            }
        }
    };
}

/// Defines a method that passes the call straight on.
macro_rules! passing {
    ($name:ident, $method:ident, ($($arg:ident: $type:ty),*)) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file, $($arg: $type),*) -> c_int {
            // SAFETY: SQLite passes a file opened by `open`.
            unsafe {
                let (inner, _) = parts(file);
                let method = inner_method!(inner, $method);
                method(inner, $($arg),*)
            }
        }
    };
}

flushing!(read, xRead, (data: *mut c_void, amount: c_int, offset: i64));
flushing!(truncate, xTruncate, (size: i64));
flushing!(sync, xSync, (flags: c_int));
flushing!(file_size, xFileSize, (size: *mut i64));
flushing!(file_control, xFileControl, (op: c_int, argument: *mut c_void));
passing!(lock, xLock, (level: c_int));
passing!(unlock, xUnlock, (level: c_int));
passing!(check_reserved_lock, xCheckReservedLock, (reserved: *mut c_int));
passing!(sector_size, xSectorSize, ());
passing!(device_characteristics, xDeviceCharacteristics, ());
