//! Stack overflow of a green process, reported with its name.
//!
//! A green process that overflows its stack touches the guard page below it (see
//! [`stack`](super::stack)) and the kernel raises `SIGSEGV`. Without help the program
//! dies saying nothing of which of its hundred thousand processes did it. So the first
//! worker that starts installs a `SIGSEGV`/`SIGBUS` handler (once per program), and each
//! worker thread runs it on an alternate signal stack of its own (the faulting stack
//! has no room left). While a worker resumes a coroutine it keeps a [`Frame`] in a
//! thread-local: the coroutine's guard page, its stack size and its name. The handler
//! checks whether the fault address lies in that guard page; if so it writes
//!
//! ```text
//! csp: green process `NAME` overflowed its stack of N KiB
//! ```
//!
//! to stderr, restores the default action and returns, so the faulting instruction
//! faults again and the program dies by `SIGSEGV`, as it would have. Any other fault is
//! passed on to the handler that was installed before (std's own stack-overflow
//! handler, which reports threads' overflows the same way) or to the default action.
//!
//! The handler is async-signal-safe: it reads a thread-local `Cell` (const-initialised,
//! no destructor: no lazy set-up, as std's own handler does), the name through a pointer
//! and length set before the resume, and calls only `write`, `sigaction` and the
//! previous handler. It allocates nothing and takes no lock.

use std::cell::Cell;
use std::io;
use std::ops::Range;
use std::sync::{Once, OnceLock};

use super::stack::page_size;

/// Bytes of each worker's alternate signal stack (the handler and std's need little;
/// `SIGSTKSZ` can be as small as 8 KiB, which std's handler may exceed with its
/// formatting).
const ALT_STACK_SIZE: usize = 64 * 1024;

/// What the handler needs to know about the coroutine a worker runs now.
#[derive(Clone, Copy)]
pub(super) struct Frame {
    guard: (usize, usize),
    kib: usize,
    name: *const u8,
    name_len: usize,
}

impl Frame {
    const NONE: Frame = Frame {
        guard: (0, 0),
        kib: 0,
        name: std::ptr::null(),
        name_len: 0,
    };

    /// The frame of a coroutine on a stack of `size` usable bytes guarded by `guard`,
    /// named `name`. The worker keeps `name` alive (and in place) as long as it may
    /// install this frame.
    pub(super) fn new(guard: Range<usize>, size: usize, name: &str) -> Frame {
        Frame {
            guard: (guard.start, guard.end),
            kib: size / 1024,
            name: name.as_ptr(),
            name_len: name.len(),
        }
    }

    fn is_set(&self) -> bool {
        !self.name.is_null()
    }
}

thread_local! {
    /// The frame of the coroutine this thread runs now (`Frame::NONE`: none).
    static RUNNING: Cell<Frame> = const { Cell::new(Frame::NONE) };
}

/// Makes `frame` this thread's running coroutine's until the guard is dropped.
pub(super) fn watch(frame: Frame) -> Watching {
    Watching(RUNNING.with(|r| r.replace(frame)))
}

/// Restores the frame that was running before [`watch`].
pub(super) struct Watching(Frame);

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = RUNNING.try_with(|r| r.set(self.0));
    }
}

/// Whether the calling code runs in a green process (on a worker, inside a coroutine).
pub(super) fn in_green_process() -> bool {
    RUNNING.try_with(|r| r.get().is_set()).unwrap_or(false)
}

/// The dispositions of `SIGSEGV` and `SIGBUS` before ours, set once before ours is
/// installed (so the handler never sees them unset once it runs).
static PREVIOUS: [OnceLock<libc::sigaction>; 2] = [OnceLock::new(), OnceLock::new()];
const SIGNALS: [libc::c_int; 2] = [libc::SIGSEGV, libc::SIGBUS];

/// Installs the handler for the whole program, the first time only.
fn install_handler() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        for (signal, previous) in SIGNALS.into_iter().zip(&PREVIOUS) {
            // SAFETY: `sigaction` with a null new action only reads the current one
            // into `old`, a zeroed `sigaction` (a valid value of that plain C struct).
            let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
            if unsafe { libc::sigaction(signal, std::ptr::null(), &mut old) } != 0 {
                continue;
            }
            let _ = previous.set(old);
            // SAFETY: as above for the zeroed struct; `on_fault` has the three-argument
            // form `SA_SIGINFO` asks for, and is async-signal-safe (see the module docs).
            // `SA_ONSTACK` runs it on the worker's alternate stack.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_fault as Handler as libc::sighandler_t;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
    });
}

/// The alternate signal stack of one worker thread, installed while it lives; the
/// thread's previous one (std gives its threads one) is restored when dropped.
pub(super) struct AltStack {
    map: *mut libc::c_void,
    len: usize,
    previous: libc::stack_t,
}

/// Prepares the calling worker thread: installs the handler (once per program) and an
/// alternate signal stack for this thread. Without one (the OS refused the memory)
/// an overflow still kills the program, unreported.
pub(super) fn on_worker_thread() -> io::Result<AltStack> {
    install_handler();
    let page = page_size();
    let len = ALT_STACK_SIZE + page;
    // SAFETY: a fresh anonymous mapping at an address the kernel picks; checked below.
    let map = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if map == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the lowest page of the mapping just made: a guard, so a handler that
    // overflows the alternate stack faults instead of writing below it.
    unsafe { libc::mprotect(map, page, libc::PROT_NONE) };
    let stack = libc::stack_t {
        // SAFETY: `page < len`: still inside the mapping.
        ss_sp: unsafe { map.cast::<u8>().add(page) }.cast(),
        ss_flags: 0,
        ss_size: ALT_STACK_SIZE,
    };
    // SAFETY: a zeroed `stack_t` is a valid value for the kernel to fill in.
    let mut previous: libc::stack_t = unsafe { std::mem::zeroed() };
    // SAFETY: `stack` describes memory this thread owns until `AltStack` is dropped,
    // which first puts `previous` back.
    if unsafe { libc::sigaltstack(&stack, &mut previous) } != 0 {
        let error = io::Error::last_os_error();
        // SAFETY: the mapping made above, used by nothing.
        unsafe { libc::munmap(map, len) };
        return Err(error);
    }
    Ok(AltStack { map, len, previous })
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // SAFETY: restores the thread's previous alternate stack (still owned by
        // whoever installed it: std frees its own when the thread exits), then unmaps
        // ours, which no handler runs on now: this runs on the worker's own stack, not
        // in a handler.
        unsafe {
            libc::sigaltstack(&self.previous, std::ptr::null_mut());
            libc::munmap(self.map, self.len);
        }
    }
}

/// A handler installed with `SA_SIGINFO`.
type Handler = extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void);

/// The handler (see the module docs).
extern "C" fn on_fault(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid `siginfo_t` to an `SA_SIGINFO` handler; for
    // SIGSEGV and SIGBUS its address field is the faulting address.
    let addr = unsafe { (*info).si_addr() } as usize;
    let frame = RUNNING.try_with(Cell::get).unwrap_or(Frame::NONE);
    if frame.is_set() && (frame.guard.0..frame.guard.1).contains(&addr) {
        report(&frame);
        reset_to_default(signal);
        return;
    }
    chain(signal, info, context);
}

/// Writes the report of `frame`'s overflow to stderr, with `write(2)` only.
fn report(frame: &Frame) {
    // SAFETY: `name`/`name_len` are those of the process's name, which the worker keeps
    // alive while this frame is installed (see `Frame::new`).
    let name = unsafe { std::slice::from_raw_parts(frame.name, frame.name_len) };
    let mut digits = [0u8; 20];
    let kib = format_decimal(frame.kib, &mut digits);
    for part in [
        b"csp: green process `".as_slice(),
        name,
        b"` overflowed its stack of ",
        kib,
        b" KiB\n",
    ] {
        write_stderr(part);
    }
}

/// `n` in decimal, in the tail of `buf`.
fn format_decimal(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[start..];
        }
    }
}

fn write_stderr(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `write` is async-signal-safe; `bytes` is a valid slice.
        let n = unsafe { libc::write(libc::STDERR_FILENO, bytes.as_ptr().cast(), bytes.len()) };
        if n <= 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

fn reset_to_default(signal: libc::c_int) {
    // SAFETY: a zeroed `sigaction` with `SIG_DFL` is the default disposition;
    // `sigaction` is async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(signal, &action, std::ptr::null_mut());
    }
}

/// Passes a fault that is not a green overflow to the handler installed before ours;
/// with none (or one that ignored it), the default action.
fn chain(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let index = SIGNALS.iter().position(|s| *s == signal);
    let previous = index.and_then(|i| PREVIOUS[i].get());
    let Some(previous) = previous else {
        reset_to_default(signal);
        return;
    };
    let handler = previous.sa_sigaction;
    if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
        // Ignoring a fault would fault again forever: the default action it is.
        reset_to_default(signal);
    } else if previous.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: with `SA_SIGINFO` the previous handler was installed as this
        // three-argument function; it gets the arguments the kernel gave us.
        let handler: Handler = unsafe { std::mem::transmute(handler) };
        handler(signal, info, context);
    } else {
        // SAFETY: without `SA_SIGINFO` it was installed as a one-argument function.
        let handler: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(handler) };
        handler(signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_formatted_without_allocating() {
        let mut buf = [0u8; 20];
        assert_eq!(format_decimal(0, &mut buf), b"0");
        assert_eq!(format_decimal(64, &mut buf), b"64");
        assert_eq!(
            format_decimal(usize::MAX, &mut buf),
            usize::MAX.to_string().as_bytes()
        );
    }

    #[test]
    fn a_frame_is_watched_only_while_its_guard_lives() {
        assert!(!in_green_process());
        let name = String::from("deep");
        {
            let _watching = watch(Frame::new(4096..8192, 65536, &name));
            assert!(in_green_process());
            let frame = RUNNING.with(Cell::get);
            assert_eq!(
                (frame.guard, frame.kib, frame.name_len),
                ((4096, 8192), 64, 4)
            );
        }
        assert!(!in_green_process());
    }
}
